import Pusher from 'pusher';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { accepts } from '../../src/local/net.js';
import { type LocalStack, offlineLogFile, startLocalStack } from '../../src/local/stack.js';
import { MAX_INBOUND_FRAME_BYTES } from '../../src/protocol/frames.js';
import { openRawSocket } from '../support/raw-socket.js';

const PUSHER_JS_QUERY = 'protocol=7&client=js&version=8.6.0&flash=false';
const OPEN_TIMEOUT_MS = 10_000;

type Upgrade = { opened: true } | { opened: false; status: number };

/** API Gateway's answers when an authorizer refuses: 401 (it threw Unauthorized) or 403 (Deny, isAuthorized false). */
const AUTHORIZER_REFUSALS = [401, 403];

/** Opens a raw WebSocket and reports whether the upgrade was accepted, or the HTTP status it got instead. */
function upgrade(url: string): Promise<Upgrade> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`no answer to the upgrade of ${url} within ${OPEN_TIMEOUT_MS} ms`));
    }, OPEN_TIMEOUT_MS);
    const settle = (result: Upgrade) => {
      clearTimeout(timer);
      socket.terminate();
      resolve(result);
    };
    socket.once('open', () => settle({ opened: true }));
    socket.once('unexpected-response', (_request, response) =>
      settle({ opened: false, status: response.statusCode ?? 0 }),
    );
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

function statusOf(promise: Promise<unknown>): Promise<number> {
  return promise.then(
    () => 200,
    (error: Pusher.RequestError) => error.status ?? 0,
  );
}

describe('npm start: the local stack', () => {
  let stack: LocalStack;
  const log = offlineLogFile('e2e');

  beforeAll(async () => {
    stack = await startLocalStack({ port: 0, offlineOutput: log });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  }, 30_000);

  it('takes the pusher-js URL of the demo key through the rewrite and the $connect authorizer to a greeting', async () => {
    // Without ?appKey= the authorizer would not even run (403), so this also proves the rewrite.
    const socket = await openRawSocket(`${stack.urls.websocket}/app/${stack.app.key}?${PUSHER_JS_QUERY}`);
    const greeting = await socket.nextFrame().finally(() => socket.close());

    expect(greeting.event, `serverless offline output: ${log}`).toBe('pusher:connection_established');
  });

  it('tells a client with an unknown key pusher:error 4001, then closes the connection', async () => {
    // The authorizer lets it in marked: a refused upgrade would only make pusher-js retry forever.
    const socket = await openRawSocket(`${stack.urls.websocket}/app/no-such-key?${PUSHER_JS_QUERY}`);

    expect(await socket.nextFrame()).toEqual({
      event: 'pusher:error',
      data: { code: 4001, message: 'Application does not exist' },
    });
    await socket.closed();
  });

  it('closes a connection with 1009 on a client frame over 32 KB, as API Gateway does, and it leaves its channels', async () => {
    const socket = await openRawSocket(`${stack.urls.websocket}/app/${stack.app.key}?${PUSHER_JS_QUERY}`);
    expect((await socket.nextFrame()).event).toBe('pusher:connection_established');
    socket.send({ event: 'pusher:subscribe', data: { channel: 'e2e-big-frame' } });
    expect((await socket.nextFrame()).event).toBe('pusher_internal:subscription_succeeded');
    const pusher = new Pusher({
      appId: stack.app.id,
      key: stack.app.key,
      secret: stack.app.secret,
      host: '127.0.0.1',
      port: String(stack.port),
      useTLS: false,
    });
    const occupied = async () =>
      ((await (await pusher.get({ path: '/channels/e2e-big-frame' })).json()) as { occupied: boolean })
        .occupied;
    expect(await occupied()).toBe(true);

    socket.send({
      event: 'pusher:subscribe',
      data: { channel: 'e2e-other', padding: 'x'.repeat(MAX_INBOUND_FRAME_BYTES) },
    });

    expect(await socket.closed()).toEqual({ code: 1009, reason: 'Message too big' });
    await expect.poll(occupied, { timeout: 10_000, interval: 100 }).toBe(false);
  });

  it('answers 404 at the edge for any other WebSocket path', async () => {
    expect(await upgrade(`${stack.urls.websocket}/?appKey=${stack.app.key}&protocol=7`)).toEqual({
      opened: false,
      status: 404,
    });
  });

  it('passes pusher SDK calls to the HTTP API, where the authorizer refuses a wrong secret with 403', async () => {
    const { hostname, port } = new URL(stack.urls.http);
    const client = (secret: string) =>
      new Pusher({
        appId: stack.app.id,
        key: stack.app.key,
        secret,
        host: hostname,
        port,
        useTLS: false,
        timeout: OPEN_TIMEOUT_MS,
      });

    const forged = await statusOf(client('not-the-secret').trigger('my-channel', 'my-event', { n: 1 }));
    const signed = await statusOf(client(stack.app.secret).trigger('my-channel', 'my-event', { n: 1 }));

    expect(forged).toBe(403);
    // Whatever the route answers (its handler may still be to come), the authorizer let the request through.
    expect(AUTHORIZER_REFUSALS).not.toContain(signed);
  });

  it('stop() ends serverless offline and closes every port', async () => {
    const ports = [stack.port, ...Object.values(stack.offline.ports)];

    await stack.stop();

    expect(() => process.kill(stack.offline.pid, 0)).toThrow(/ESRCH/);
    // A stop is not a failure: `npm start` exits 0 on Ctrl-C.
    const settled = await Promise.race([
      stack.failure.then(() => 'failed'),
      new Promise((resolve) => setTimeout(resolve, 200, 'pending')),
    ]);
    expect(settled).toBe('pending');
    for (const port of ports) expect(await accepts('127.0.0.1', port), `port ${port}`).toBe(false);
  });
});
