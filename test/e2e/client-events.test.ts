import { setTimeout as sleep } from 'node:timers/promises';
import type { Channel } from 'pusher-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/apps/app.js';
import { testApp } from '../fixtures/apps/items.js';
import { type AuthServer, startAuthServer } from '../support/auth-server.js';
import { useLocalStack } from '../support/local-stack.js';
import { nextEvent, type PusherJsClient, PusherJsClients, recordEvents } from '../support/pusher-js.js';

const CLIENT_EVENTS_APP = testApp('e2e-client-events', { enableClientMessages: true });
const NO_CLIENT_EVENTS_APP = testApp('e2e-no-client-events', { enableClientMessages: false });
const RATE_LIMIT = 2;
const RATE_LIMITED_APP = testApp('e2e-client-events-rate', {
  enableClientMessages: true,
  maxClientEventsPerSecond: RATE_LIMIT,
});
/** Events sent back to back: several times the rate, however slowly the local stack takes them. */
const FLOOD = 10;
/** A refusal is an answer to the sender; nothing tells the others that nothing is coming. */
const NOTHING_ARRIVES_MS = 1_000;
/** Longer than one rate window: the next event starts a fresh second. */
const NEXT_WINDOW_MS = 1_100;

/** What pusher-js emits on `connection.bind('error')` for a `pusher:error` frame on an open connection. */
interface PusherErrorEvent {
  readonly type: string;
  readonly data?: { readonly code?: number | null; readonly message?: string };
}

/** A client event as a presence channel hands it to `bind`: the data, and the metadata with `user_id`. */
interface Delivery {
  readonly data: unknown;
  readonly metadata: unknown;
}

function recordDeliveries(channel: Channel, event: string): readonly Delivery[] {
  const deliveries: Delivery[] = [];
  channel.bind(event, (data: unknown, metadata: unknown) => deliveries.push({ data, metadata }));
  return deliveries;
}

const pusherErrors = (client: PusherJsClient) => client.errors as readonly PusherErrorEvent[];

describe('client events between pusher-js clients on the local stack', () => {
  const local = useLocalStack('client-events', [CLIENT_EVENTS_APP, NO_CLIENT_EVENTS_APP, RATE_LIMITED_APP]);
  const clients = new PusherJsClients();
  const backends = new Map<string, AuthServer>();

  beforeAll(async () => {
    for (const app of [CLIENT_EVENTS_APP, NO_CLIENT_EVENTS_APP, RATE_LIMITED_APP]) {
      backends.set(app.id, await startAuthServer(app));
    }
  });
  afterAll(async () => {
    for (const backend of backends.values()) await backend.close();
  });
  afterEach(() => clients.disconnectAll());

  async function connected(app: App, userId: string): Promise<PusherJsClient> {
    const client = clients.connect({
      key: app.key,
      port: local.stack.port,
      auth: backends.get(app.id),
      authParams: { user_id: userId },
    });
    await client.connected();
    return client;
  }

  /** Alice and Bob of `app`, both subscribed to `channelName`. */
  async function aliceAndBob(app: App, channelName: string) {
    const alice = await connected(app, 'alice');
    const bob = await connected(app, 'bob');
    return {
      alice,
      bob,
      aliceChannel: await alice.subscribe(channelName),
      bobChannel: await bob.subscribe(channelName),
    };
  }

  /**
   * Bob answers with a client event and Alice waits for it: an echo of Alice's event to herself would have
   * gone out in the fan-out that reached Bob before his answer was even sent.
   */
  async function bobAnswers(aliceChannel: Channel, bobChannel: Channel): Promise<unknown> {
    const answer = nextEvent(aliceChannel, 'client-answer', "bob's answer");
    bobChannel.trigger('client-answer', { from: 'bob' });
    return answer;
  }

  it('delivers a client event on a private channel to the other subscribers, not back to the sender', async () => {
    const { alice, aliceChannel, bobChannel } = await aliceAndBob(CLIENT_EVENTS_APP, 'private-e2e-chat');
    const echoed = recordEvents(aliceChannel, 'client-typing');
    const toBob = nextEvent(bobChannel, 'client-typing', "alice's client event");

    expect(aliceChannel.trigger('client-typing', { text: 'hi bob', n: 1 })).toBe(true);

    await expect(toBob).resolves.toEqual({ text: 'hi bob', n: 1 });
    await expect(bobAnswers(aliceChannel, bobChannel)).resolves.toEqual({ from: 'bob' });
    expect(echoed).toEqual([]);
    expect(alice.errors).toEqual([]);
  });

  it("delivers a client event on a presence channel with the sender's user_id, not back to the sender", async () => {
    const { aliceChannel, bobChannel } = await aliceAndBob(CLIENT_EVENTS_APP, 'presence-e2e-room');
    const echoed = recordDeliveries(aliceChannel, 'client-move');
    const toBob = recordDeliveries(bobChannel, 'client-move');
    const arrived = nextEvent(bobChannel, 'client-move', "alice's client event");

    aliceChannel.trigger('client-move', { x: 3, y: 4 });
    await arrived;
    const bobsAnswer = recordDeliveries(aliceChannel, 'client-answer');
    await bobAnswers(aliceChannel, bobChannel);

    expect(toBob).toEqual([{ data: { x: 3, y: 4 }, metadata: { user_id: 'alice' } }]);
    expect(bobsAnswer).toEqual([{ data: { from: 'bob' }, metadata: { user_id: 'bob' } }]);
    expect(echoed).toEqual([]);
  });

  it('refuses client events with pusher:error when the app does not enable them; the connection stays', async () => {
    const { alice, aliceChannel, bobChannel } = await aliceAndBob(NO_CLIENT_EVENTS_APP, 'private-e2e-off');
    const toBob = recordEvents(bobChannel, 'client-typing');
    const refused = nextEvent<PusherErrorEvent>(alice.pusher.connection, 'error', 'the refusal');

    aliceChannel.trigger('client-typing', { text: 'hi' });

    expect(await refused).toEqual({
      type: 'PusherError',
      data: expect.objectContaining({ message: expect.any(String) }),
    });
    await sleep(NOTHING_ARRIVES_MS);
    expect(toBob).toEqual([]);
    expect(alice.states).toEqual(['connecting', 'connected']);
  });

  it.each([
    ['a public channel', 'e2e-public-chat', true],
    ['a private channel the sender has not joined', 'private-e2e-not-joined', false],
  ])(
    'refuses a client event on %s with pusher:error, even when enabled',
    async (_, channelName, senderJoined) => {
      const alice = await connected(CLIENT_EVENTS_APP, 'alice');
      const bob = await connected(CLIENT_EVENTS_APP, 'bob');
      const bobChannel = await bob.subscribe(channelName);
      if (senderJoined) await alice.subscribe(channelName);
      const toBob = recordEvents(bobChannel, 'client-sneak');
      const refused = nextEvent<PusherErrorEvent>(alice.pusher.connection, 'error', 'the refusal');

      alice.pusher.send_event('client-sneak', { text: 'psst' }, channelName);

      expect(await refused).toMatchObject({ type: 'PusherError', data: { message: expect.any(String) } });
      await sleep(NOTHING_ARRIVES_MS);
      expect(toBob).toEqual([]);
      expect(alice.states).toEqual(['connecting', 'connected']);
    },
  );

  it('answers client events past MaxClientEventsPerSecond with pusher:error 4301 and keeps the connection', async () => {
    const { alice, aliceChannel, bobChannel } = await aliceAndBob(RATE_LIMITED_APP, 'private-e2e-flood');
    const socketId = alice.socketId;
    const toBob = recordEvents<{ n: number }>(bobChannel, 'client-flood');
    const firstRefusal = nextEvent<PusherErrorEvent>(alice.pusher.connection, 'error', 'a 4301');

    for (let n = 0; n < FLOOD; n++) aliceChannel.trigger('client-flood', { n });
    await firstRefusal;
    await sleep(NEXT_WINDOW_MS);
    const afterwards = nextEvent(bobChannel, 'client-later', 'an event in a later second');
    aliceChannel.trigger('client-later', { n: FLOOD });
    await afterwards;

    const refusals = pusherErrors(alice);
    expect(refusals.length).toBeGreaterThan(0);
    for (const refusal of refusals) {
      expect(refusal).toEqual({ type: 'PusherError', data: { code: 4301, message: expect.any(String) } });
    }
    expect(toBob.length).toBeGreaterThan(0);
    expect(toBob.length, 'no event is both delivered and refused').toBeLessThanOrEqual(
      FLOOD - refusals.length,
    );
    expect(new Set(toBob.map(({ n }) => n)).size, 'each delivered once').toBe(toBob.length);
    expect(alice.socketId).toBe(socketId);
    expect(alice.states).toEqual(['connecting', 'connected']);
  });
});
