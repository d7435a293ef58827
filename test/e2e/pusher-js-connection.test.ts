import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { testApp } from '../fixtures/apps/items.js';
import { startCountingProxy } from '../support/counting-proxy.js';
import { useLocalStack } from '../support/local-stack.js';
import { nextEvent, PusherJsClients } from '../support/pusher-js.js';
import { openRawSocket } from '../support/raw-socket.js';

const PUSHER_JS_QUERY = 'protocol=7&client=js&version=8.6.0&flash=false';
const SOCKET_ID = /^\d+\.\d+$/;
/** pusher-js backs off 1 s before a reconnect; three seconds of silence means it gave up. */
const NO_RECONNECT_WINDOW_MS = 3_000;
/** API Gateway closes a WebSocket idle for 10 minutes: pusher-js must ping before that. */
const API_GATEWAY_IDLE_TIMEOUT_S = 600;

const DISABLED_APP = testApp('e2e-disabled', { enabled: false });
const ONE_CONNECTION_APP = testApp('e2e-one-connection', { maxConnections: 1 });

describe('pusher-js connecting to the local stack', () => {
  const local = useLocalStack('connection', [DISABLED_APP, ONE_CONNECTION_APP]);
  const stack = () => local.stack;
  const clients = new PusherJsClients();
  afterEach(() => clients.disconnectAll());

  const connect = (key = stack().app.key, port = stack().port) => clients.connect({ key, port });

  it('connects and gets a Pusher socket id', async () => {
    const first = connect();
    const second = connect();

    const ids = [await first.connected(), await second.connected()];

    expect(ids[0]).toMatch(SOCKET_ID);
    expect(ids[1]).toMatch(SOCKET_ID);
    expect(ids[0]).not.toBe(ids[1]);
    expect(first.states).toEqual(['connecting', 'connected']);
    expect(first.errors).toEqual([]);
  });

  it('greets with connection_established whose data is a JSON string, and pusher-js adopts its activity_timeout', async () => {
    const raw = await openRawSocket(`${stack().urls.websocket}/app/${stack().app.key}?${PUSHER_JS_QUERY}`);
    const greeting = await raw.nextFrame().finally(() => raw.close());

    expect(greeting.event).toBe('pusher:connection_established');
    expect(typeof greeting.data).toBe('string');
    const { socket_id, activity_timeout } = JSON.parse(greeting.data as string);
    expect(socket_id).toMatch(SOCKET_ID);
    expect(Number.isInteger(activity_timeout)).toBe(true);
    expect(activity_timeout).toBeGreaterThan(0);
    expect(activity_timeout).toBeLessThan(API_GATEWAY_IDLE_TIMEOUT_S);

    // A client willing to wait longer than the server takes the server's value (pusher-js uses the smaller).
    const patient = clients.connect({ key: stack().app.key, port: stack().port, activityTimeout: 3_600_000 });
    await patient.connected();
    expect(patient.pusher.connection.activityTimeout).toBe(activity_timeout * 1000);
  });

  it('answers pusher:ping with pusher:pong', async () => {
    const client = connect();
    await client.connected();

    const pong = nextEvent(client.pusher, 'pusher:pong', 'the answer to pusher:ping');
    client.pusher.send_event('pusher:ping', {});

    await expect(pong).resolves.toEqual({});
    expect(client.pusher.connection.state).toBe('connected');
  });

  /**
   * Connects through a counting proxy and checks that pusher-js got `pusher:error` with `code` during the
   * handshake, gave up, and made no further attempt.
   */
  async function expectRefusedForGood(key: string, code: number) {
    const proxy = await startCountingProxy({ host: '127.0.0.1', port: stack().port });
    try {
      const client = connect(key, proxy.port);

      const ended = await client.ended();
      await sleep(NO_RECONNECT_WINDOW_MS);

      expect(ended).toBe('disconnected');
      // What pusher-js surfaces on `connection.bind('error')` for a handshake `pusher:error` it refuses.
      expect(client.errors).toEqual([
        {
          type: 'WebSocketError',
          error: { type: 'PusherError', data: { code, message: expect.any(String) } },
        },
      ]);
      expect(client.states).toEqual(['connecting', 'disconnected']);
      expect(proxy.connections, 'connection attempts through the front door').toBe(1);
    } finally {
      await proxy.close();
    }
  }

  it('refuses an unknown key with pusher:error 4001, and pusher-js stops reconnecting', async () => {
    await expectRefusedForGood('e2e-no-such-key', 4001);
  });

  it('refuses a disabled app with pusher:error 4003, and pusher-js stops reconnecting', async () => {
    await expectRefusedForGood(DISABLED_APP.key, 4003);
  });

  it('refuses a connection over MaxConnections with 4004 until one is freed', async () => {
    const holder = connect(ONE_CONNECTION_APP.key);
    await holder.connected();

    await expectRefusedForGood(ONE_CONNECTION_APP.key, 4004);

    holder.disconnect();
    // $disconnect runs after the socket has closed; a new client may race it, but not for long.
    const socketId = await connectedWithin(ONE_CONNECTION_APP.key, 5_000);
    expect(socketId).toMatch(SOCKET_ID);
  });

  /** Tries fresh clients until one connects; each failure must be the quota refusal. */
  async function connectedWithin(key: string, budgetMs: number): Promise<string> {
    const deadline = Date.now() + budgetMs;
    for (;;) {
      const client = connect(key);
      if ((await client.settled()) === 'connected') return client.socketId;
      expect(client.errors).toEqual([
        {
          type: 'WebSocketError',
          error: { type: 'PusherError', data: { code: 4004, message: expect.any(String) } },
        },
      ]);
      if (Date.now() > deadline)
        throw new Error(`still refused with 4004 ${budgetMs} ms after the holder left`);
      await sleep(250);
    }
  }
});
