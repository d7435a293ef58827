import { setTimeout as sleep } from 'node:timers/promises';
import type { Channel } from 'pusher-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/apps/app.js';
import { testApp } from '../fixtures/apps/items.js';
import { type AuthServer, startAuthServer } from '../support/auth-server.js';
import { useLocalStack } from '../support/local-stack.js';
import {
  DEFAULT_WAIT_MS,
  nextEvent,
  type PusherJsClient,
  PusherJsClients,
  recordEvents,
} from '../support/pusher-js.js';

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
/** Sent one after another: fewer, so that they fit in two rate windows even on a slow machine. */
const PACED = 8;
/** How long every event of a burst may take to be delivered or refused. */
const ACCOUNTING_TIMEOUT_MS = 10_000;
const POLL_MS = 50;
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

  /** Every one of `sent` client events is accounted for: delivered to Bob or refused to Alice. */
  async function accountedFor(alice: PusherJsClient, toBob: readonly unknown[], sent: number) {
    const deadline = Date.now() + ACCOUNTING_TIMEOUT_MS;
    while (toBob.length + alice.errors.length < sent && Date.now() < deadline) await sleep(POLL_MS);
    return { delivered: toBob.length, refusals: pusherErrors(alice) };
  }

  /** What a connection over the rate must see: each refusal a 4301, each event delivered or refused, once. */
  function expectRateLimited(
    { delivered, refusals }: { delivered: number; refusals: readonly PusherErrorEvent[] },
    sent: number,
  ) {
    const tally = `${sent} sent, ${delivered} delivered, ${refusals.length} refused`;
    expect(refusals.length, `4301 refusals: ${tally}`).toBeGreaterThanOrEqual(sent - 2 * RATE_LIMIT);
    expect(refusals).toEqual(
      refusals.map(() => ({ type: 'PusherError', data: { code: 4301, message: expect.any(String) } })),
    );
    expect(delivered + refusals.length, tally).toBe(sent);
  }

  it('answers a burst of client events past MaxClientEventsPerSecond with 4301 and keeps the connection', async () => {
    const { alice, aliceChannel, bobChannel } = await aliceAndBob(RATE_LIMITED_APP, 'private-e2e-burst');
    const socketId = alice.socketId;
    const toBob = recordEvents<{ n: number }>(bobChannel, 'client-burst');

    for (let n = 0; n < FLOOD; n++) aliceChannel.trigger('client-burst', { n });
    const tally = await accountedFor(alice, toBob, FLOOD);

    // Sent at once, they are spread over at most two one-second windows.
    expectRateLimited(tally, FLOOD);
    expect(new Set(toBob.map(({ n }) => n)).size, 'each delivered once').toBe(toBob.length);
    await sleep(NEXT_WINDOW_MS);
    const later = nextEvent(bobChannel, 'client-later', 'an event in a later second');
    aliceChannel.trigger('client-later', {});
    await later;
    expect(alice.socketId).toBe(socketId);
    expect(alice.states).toEqual(['connecting', 'connected']);
  });

  it('answers client events sent one after another past MaxClientEventsPerSecond with 4301', async () => {
    const { alice, aliceChannel, bobChannel } = await aliceAndBob(RATE_LIMITED_APP, 'private-e2e-paced');
    const toBob = recordEvents(bobChannel, 'client-paced');
    const started = Date.now();

    // Each one waits for the previous one's outcome, so none of them overlap.
    for (let n = 0; n < PACED; n++) {
      const outcome = nextOutcome(bobChannel, 'client-paced', alice);
      aliceChannel.trigger('client-paced', { n });
      await outcome;
    }
    const elapsedMs = Date.now() - started;
    const tally = await accountedFor(alice, toBob, PACED);

    expect(elapsedMs, 'the paced events must fit in two seconds for the count below').toBeLessThan(2_000);
    expectRateLimited(tally, PACED);
    expect(alice.states).toEqual(['connecting', 'connected']);
  });
});

/** Resolves when the next `event` reaches `channel` or the next error reaches `sender`, whichever is first. */
function nextOutcome(
  channel: Channel,
  event: string,
  sender: PusherJsClient,
): Promise<'delivered' | 'refused'> {
  const connection = sender.pusher.connection;
  return new Promise((resolve, reject) => {
    const stop = () => {
      clearTimeout(timer);
      channel.unbind(event, onDelivered);
      connection.unbind('error', onRefused);
    };
    const onDelivered = () => {
      stop();
      resolve('delivered');
    };
    const onRefused = () => {
      stop();
      resolve('refused');
    };
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`neither ${event} on ${channel.name} nor an error within ${DEFAULT_WAIT_MS} ms`));
    }, DEFAULT_WAIT_MS);
    channel.bind(event, onDelivered);
    connection.bind('error', onRefused);
  });
}
