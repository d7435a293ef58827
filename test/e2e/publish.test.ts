import type Pusher from 'pusher';
import type { Channel } from 'pusher-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../fixtures/apps/items.js';
import { type AuthServer, startAuthServer } from '../support/auth-server.js';
import { useLocalStack } from '../support/local-stack.js';
import { nextEvent, type PusherJsClient, PusherJsClients, recordEvents } from '../support/pusher-js.js';
import { jsonOf, refusalOf, serverSdk } from '../support/pusher-sdk.js';

const PUBLISH_APP = testApp('e2e-publish');
/** Published after the events under test: once it is in, whatever came before it has been delivered. */
const MARKER = 'e2e-marker';
const TERMINATE_TIMEOUT_MS = 30_000;

describe('the pusher SDK publishing to pusher-js clients on the local stack', () => {
  const local = useLocalStack('publish', [PUBLISH_APP]);
  const clients = new PusherJsClients();
  let backend: AuthServer;
  let sdk: Pusher;

  beforeAll(async () => {
    backend = await startAuthServer(PUBLISH_APP);
    sdk = serverSdk(local.stack, PUBLISH_APP);
  });
  afterAll(async () => {
    await backend?.close();
  });
  afterEach(() => clients.disconnectAll());

  /** A connected client of the app, who is `userId` to the backend when one is given. */
  async function connected(userId?: string): Promise<PusherJsClient> {
    const client = clients.connect({
      key: PUBLISH_APP.key,
      port: local.stack.port,
      auth: backend,
      authParams: userId === undefined ? {} : { user_id: userId },
    });
    await client.connected();
    return client;
  }

  /** A connected client signed in as `userId`, subscribed to its `#server-to-user-` channel. */
  async function signedIn(userId: string): Promise<PusherJsClient> {
    const client = await connected(userId);
    client.pusher.signin();
    await client.pusher.user.signinDonePromise;
    const userChannel = client.pusher.user.serverToUserChannel;
    if (!userChannel.subscribed) {
      await nextEvent(userChannel, 'pusher:subscription_succeeded', `#server-to-user-${userId} subscription`);
    }
    return client;
  }

  /**
   * Publishes the marker to every given channel and waits until each has it. A publish answers once its
   * fan-out is done, so anything the publishes before it were going to deliver has been delivered by then.
   */
  async function drained(...channels: Channel[]): Promise<void> {
    const arrivals = channels.map((channel) => nextEvent(channel, MARKER, `the marker on ${channel.name}`));
    expect(
      await jsonOf(sdk.trigger([...new Set(channels.map((channel) => channel.name))], MARKER, {})),
    ).toEqual({});
    await Promise.all(arrivals);
  }

  it('triggers to one channel: every subscriber gets the event once, with the data as sent', async () => {
    const [alice, bob] = [await connected(), await connected()];
    const [aliceChannel, bobChannel] = [await alice.subscribe('e2e-one'), await bob.subscribe('e2e-one')];
    const toAlice = recordEvents(aliceChannel, 'greeting');
    const toBob = recordEvents(bobChannel, 'greeting');
    const data = { text: 'héllo, wörld', n: 1, nested: { list: [1, 'two', null] } };

    const answer = await jsonOf(sdk.trigger('e2e-one', 'greeting', data));
    expect(answer).toEqual({});
    await drained(aliceChannel, bobChannel);

    expect(toAlice).toEqual([data]);
    expect(toBob).toEqual([data]);
  });

  it('passes data that is not JSON through as the string it was', async () => {
    const client = await connected();
    const channel = await client.subscribe('e2e-plain');
    const arrived = nextEvent(channel, 'plain', 'the plain-text event');

    expect(await jsonOf(sdk.trigger('e2e-plain', 'plain', 'just text, {not json'))).toEqual({});

    await expect(arrived).resolves.toBe('just text, {not json');
  });

  it('triggers to several channels: each subscriber gets it once on each channel it is on', async () => {
    const [alice, bob, carol] = [await connected(), await connected(), await connected()];
    const aliceOnA = await alice.subscribe('e2e-many-a');
    const bobOnB = await bob.subscribe('e2e-many-b');
    const carolOnA = await carol.subscribe('e2e-many-a');
    const carolOnB = await carol.subscribe('e2e-many-b');
    const carolOnC = await carol.subscribe('e2e-many-c');
    const received = [aliceOnA, bobOnB, carolOnA, carolOnB, carolOnC].map((channel) =>
      recordEvents(channel, 'news'),
    );

    const answer = await jsonOf(sdk.trigger(['e2e-many-a', 'e2e-many-b'], 'news', { headline: 'both' }));
    expect(answer).toEqual({});
    await drained(aliceOnA, bobOnB, carolOnA, carolOnB, carolOnC);

    const both = [{ headline: 'both' }];
    expect(received).toEqual([both, both, both, both, []]);
  });

  it('triggers a batch: each event reaches its own channel once', async () => {
    const [alice, bob] = [await connected(), await connected()];
    const aliceOnA = await alice.subscribe('e2e-batch-a');
    const bobOnB = await bob.subscribe('e2e-batch-b');
    const first = recordEvents(aliceOnA, 'first');
    const second = recordEvents(bobOnB, 'second');
    const third = recordEvents(aliceOnA, 'third');
    const secondOnA = recordEvents(aliceOnA, 'second');

    const answer = await jsonOf(
      sdk.triggerBatch([
        { channel: 'e2e-batch-a', name: 'first', data: { n: 1 } },
        { channel: 'e2e-batch-b', name: 'second', data: { n: 2 } },
        { channel: 'e2e-batch-a', name: 'third', data: 'three' },
      ]),
    );
    expect(answer).toEqual({});
    await drained(aliceOnA, bobOnB);

    expect({ first, second, third, secondOnA }).toEqual({
      first: [{ n: 1 }],
      second: [{ n: 2 }],
      third: ['three'],
      secondOnA: [],
    });
  });

  it('leaves out the connection whose socket_id is given, on trigger and on each batch item', async () => {
    const [alice, bob] = [await connected(), await connected()];
    const [aliceChannel, bobChannel] = [await alice.subscribe('e2e-echo'), await bob.subscribe('e2e-echo')];
    const toAlice = recordEvents(aliceChannel, 'edit');
    const toBob = recordEvents(bobChannel, 'edit');

    expect(
      await jsonOf(sdk.trigger('e2e-echo', 'edit', { by: 'alice' }, { socket_id: alice.socketId })),
    ).toEqual({});
    expect(
      await jsonOf(
        sdk.triggerBatch([
          { channel: 'e2e-echo', name: 'edit', data: { by: 'bob' }, socket_id: bob.socketId },
        ]),
      ),
    ).toEqual({});
    await drained(aliceChannel, bobChannel);

    expect(toAlice).toEqual([{ by: 'bob' }]);
    expect(toBob).toEqual([{ by: 'alice' }]);
  });

  it('sends to a signed-in user on every connection of that user, and to no one else', async () => {
    const daveTab1 = await signedIn('dave');
    const daveTab2 = await signedIn('dave');
    const erin = await signedIn('erin');
    const toDave1 = recordEvents(daveTab1.pusher.user, 'notice');
    const toDave2 = recordEvents(daveTab2.pusher.user, 'notice');
    const toErin = recordEvents(erin.pusher.user, 'notice');

    const answer = await jsonOf(sdk.sendToUser('dave', 'notice', { text: 'for dave' }));
    expect(answer).toEqual({});
    const markers = [daveTab1, daveTab2, erin].map((client) =>
      nextEvent(client.pusher.user, MARKER, `the marker to ${client.socketId}`),
    );
    expect(await jsonOf(sdk.sendToUser('dave', MARKER, {}))).toEqual({});
    expect(await jsonOf(sdk.sendToUser('erin', MARKER, {}))).toEqual({});
    await Promise.all(markers);

    expect({ toDave1, toDave2, toErin }).toEqual({
      toDave1: [{ text: 'for dave' }],
      toDave2: [{ text: 'for dave' }],
      toErin: [],
    });
  });

  describe('channel queries', () => {
    /** Alice and Bob (on two connections) in `presence`; Carol and Dave on `public`. */
    async function occupy(presence: string, publicChannel: string) {
      await (await connected('alice')).subscribePresence(presence);
      await (await connected('bob')).subscribePresence(presence);
      await (await connected('bob')).subscribePresence(presence);
      await (await connected()).subscribe(publicChannel);
      await (await connected()).subscribe(publicChannel);
    }

    const get = <T>(path: string, params?: Record<string, string>) => jsonOf<T>(sdk.get({ path, params }));

    it('lists occupied channels, by prefix, with user_count for presence channels and subscription_count', async () => {
      await occupy('presence-e2e-list', 'e2e-list-public');
      await (await connected()).subscribe('private-e2e-list');

      const all = await get<{ channels: Record<string, object> }>('/channels');
      const byPrefix = await get('/channels', { filter_by_prefix: 'e2e-list-' });
      const presence = await get('/channels', { filter_by_prefix: 'presence-e2e-list', info: 'user_count' });
      const counted = await get('/channels', { filter_by_prefix: 'e2e-list-', info: 'subscription_count' });

      expect(all.channels).toMatchObject({
        'presence-e2e-list': {},
        'e2e-list-public': {},
        'private-e2e-list': {},
      });
      expect(byPrefix).toEqual({ channels: { 'e2e-list-public': {} } });
      expect(presence).toEqual({ channels: { 'presence-e2e-list': { user_count: 2 } } });
      expect(counted).toEqual({ channels: { 'e2e-list-public': { subscription_count: 2 } } });
    });

    it('refuses info=user_count on /channels without the presence- prefix filter with a 400', async () => {
      const refusal = await refusalOf(
        sdk.get({ path: '/channels', params: { filter_by_prefix: 'e2e-', info: 'user_count' } }),
      );

      expect(refusal).toEqual({ status: 400, body: expect.stringContaining('user_count') });
    });

    it('describes one channel: occupied, user_count and subscription_count', async () => {
      await occupy('presence-e2e-info', 'e2e-info-public');
      const both = { info: 'user_count,subscription_count' };

      expect(await get('/channels/presence-e2e-info', both)).toEqual({
        occupied: true,
        user_count: 2,
        subscription_count: 3,
      });
      expect(await get('/channels/e2e-info-public', { info: 'subscription_count' })).toEqual({
        occupied: true,
        subscription_count: 2,
      });
      expect(await get('/channels/e2e-info-public')).toEqual({ occupied: true });
      expect(await get('/channels/e2e-info-nobody')).toEqual({ occupied: false });
    });

    it('refuses user_count on a channel that is not a presence channel with a 400', async () => {
      await (await connected()).subscribe('e2e-info-no-users');

      const refusal = await refusalOf(
        sdk.get({ path: '/channels/e2e-info-no-users', params: { info: 'user_count' } }),
      );

      expect(refusal).toEqual({ status: 400, body: expect.stringContaining('user_count') });
    });

    it('answers a trigger with the channel info it asked for', async () => {
      await occupy('presence-e2e-trigger-info', 'e2e-trigger-info-public');

      const presence = await jsonOf(
        sdk.trigger('presence-e2e-trigger-info', 'ping', {}, { info: 'user_count,subscription_count' }),
      );
      const batch = await jsonOf(
        sdk.triggerBatch([
          { channel: 'e2e-trigger-info-public', name: 'ping', data: {}, info: 'subscription_count' },
          { channel: 'presence-e2e-trigger-info', name: 'ping', data: {}, info: 'user_count' },
        ]),
      );

      expect(presence).toEqual({
        channels: { 'presence-e2e-trigger-info': { user_count: 2, subscription_count: 3 } },
      });
      expect(batch).toEqual({ batch: [{ subscription_count: 2 }, { user_count: 2 }] });
    });

    it('lists the users of a presence channel, each once', async () => {
      await occupy('presence-e2e-users', 'e2e-users-public');

      const { users } = await get<{ users: { id: string }[] }>('/channels/presence-e2e-users/users');

      expect([...users].sort((a, b) => a.id.localeCompare(b.id))).toEqual([{ id: 'alice' }, { id: 'bob' }]);
    });

    it('refuses /users of a channel that is not a presence channel with a 400', async () => {
      await (await connected()).subscribe('e2e-users-not-presence');

      const refusal = await refusalOf(sdk.get({ path: '/channels/e2e-users-not-presence/users' }));

      expect(refusal.status).toBe(400);
    });
  });

  it(
    "terminates every connection signed in as the user, and only those; pusher-js then reconnects, as Pusher's docs warn",
    async () => {
      const fredTabs = [await signedIn('fred'), await signedIn('fred')];
      const gina = await signedIn('gina');
      // Fred by channel_data only, never signed in: Pusher terminates signed-in connections alone.
      const fredUnsigned = await connected('fred');
      await fredUnsigned.subscribePresence('presence-e2e-terminate');
      const untouched = [gina, fredUnsigned].map((client) => ({ client, socketId: client.socketId }));
      const fredSocketIds = fredTabs.map((tab) => tab.socketId);
      const fredLeft = fredTabs.map((tab) =>
        leftConnected(tab, `fred's connection ${tab.socketId} being terminated`),
      );

      const answer = await jsonOf(sdk.terminateUserConnections('fred'));
      expect(answer).toEqual({});
      await Promise.all(fredLeft);
      // The close is API Gateway's, below 4000: pusher-js takes it as a dropped connection and reconnects.
      const reconnectedAs = await Promise.all(fredTabs.map((tab) => tab.connected(TERMINATE_TIMEOUT_MS)));

      for (const [index, socketId] of reconnectedAs.entries()) {
        expect(socketId).not.toBe(fredSocketIds[index]);
      }
      for (const { client, socketId } of untouched) {
        expect(client.socketId).toBe(socketId);
        expect(client.states).toEqual(['connecting', 'connected']);
      }
    },
    TERMINATE_TIMEOUT_MS + 10_000,
  );
});

/** Resolves when pusher-js leaves `connected`, with the state it moved to. */
function leftConnected(client: PusherJsClient, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const connection = client.pusher.connection;
    const timer = setTimeout(() => {
      connection.unbind('state_change', onChange);
      reject(new Error(`still connected after ${TERMINATE_TIMEOUT_MS} ms: ${what}`));
    }, TERMINATE_TIMEOUT_MS);
    const onChange = ({ previous, current }: { previous: string; current: string }) => {
      if (previous !== 'connected') return;
      clearTimeout(timer);
      connection.unbind('state_change', onChange);
      resolve(current);
    };
    connection.bind('state_change', onChange);
  });
}
