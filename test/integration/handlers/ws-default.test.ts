import Pusher from 'pusher';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ANSWER_RESERVE_MS, TAKE_BACK_RESERVE_MS } from '../../../src/gateway/deadline.js';
import { sharedSecretForEncryptedChannel, signChannel, signUser } from '../../../src/protocol/index.js';
import { listChannels, readChannel } from '../../../src/state/channels.js';
import { getConnection } from '../../../src/state/connections.js';
import { userConnectionIds } from '../../../src/state/users.js';
import { appItem, bytes } from '../../fixtures/apps/items.js';
import { WsHarness } from '../../fixtures/gateway/ws-harness.js';
import { type AwsJsonProxy, DYNAMODB_FAULTS, startDynamoDbProxy } from '../../support/aws-json-proxy.js';
import { dynamodbEndpoint } from '../../support/dynamodb.js';
import { wsProxyEvent } from '../../support/events.js';
import { capturedStdout } from '../../support/handler-env.js';
import { lambdaContext } from '../../support/lambda-context.js';

const MASTER_KEY = 'zyrm8pvV2C9fJcBfhyXzvxbJVN/H7QLmbe0xJi1GhPU=';

let proxy: AwsJsonProxy;
let gateway: WsHarness;

beforeAll(async () => {
  proxy = await startDynamoDbProxy(dynamodbEndpoint());
  gateway = await WsHarness.start(
    'ws-default',
    [
      appItem('app-1'),
      appItem('app-small', {
        MaxPresenceMembersPerChannel: { N: '2' },
        MaxPresenceMemberSizeInKb: { N: '1' },
        MaxChannelNameLength: { N: '20' },
      }),
      appItem('app-later-off'),
    ],
    // Every message reads the app afresh, so a test can disable one.
    { dynamodbEndpoint: proxy.endpoint, env: { APP_MANAGER_CACHE_ENABLED: 'false' } },
  );
});

afterEach(() => proxy.setFault(undefined));

afterAll(async () => {
  await gateway?.close();
  await proxy?.close();
});

/** The backend's signer: the official server SDK, as an auth endpoint would use it. */
function backend(appId: string, secret = `${appId}-secret`): Pusher {
  // Never called over HTTP here: host only satisfies the options type.
  return new Pusher({
    appId,
    key: `${appId}-key`,
    secret,
    host: '127.0.0.1',
    encryptionMasterKeyBase64: MASTER_KEY,
  });
}

const subscribeMessage = (channel: string, authorization: { auth?: string; channel_data?: string } = {}) => ({
  event: 'pusher:subscribe',
  data: { auth: '', ...authorization, channel },
});

/** Connects, has the backend authorize the channel for this socket, and subscribes as pusher-js does. */
async function joinPresence(appId: string, channel: string, user: Pusher.PresenceChannelData) {
  const connection = await gateway.connect(`${appId}-key`);
  const authorization = backend(appId).authorizeChannel(connection.socketId, channel, user);
  const [reply] = await gateway.exchange(connection.connectionId, subscribeMessage(channel, authorization));
  return { ...connection, reply };
}

/** The auth a forger (or a misconfigured backend) makes: app 1's format, any secret, any channel data. */
function forged(socketId: string, secret: string, channel = 'private-orders', channelData?: string): string {
  return signChannel({ key: 'app-1-key', secret, socketId, channel, channelData }).auth;
}

/** What a presence member received after `connection_established` and its roster. */
const framesAfterRoster = (connectionId: string) => gateway.connectionsApi.framesOf(connectionId).slice(2);

function rosterOf(frame: { data?: unknown } | undefined) {
  return JSON.parse(frame?.data as string).presence;
}

describe('$default: ping', () => {
  it('answers pusher:ping with pusher:pong without reading any state', async () => {
    const { connectionId } = await gateway.connect('app-1-key');
    proxy.resetCounts();

    await expect(gateway.send(connectionId, { event: 'pusher:ping', data: {} })).resolves.toEqual({
      event: 'pusher:pong',
      data: {},
    });
    expect(proxy.count()).toBe(0);
  });
});

describe('$default: public, private and encrypted channels', () => {
  it('subscribes to a public channel and counts the subscription in the channel index', async () => {
    const { connectionId } = await gateway.connect('app-1-key');

    await expect(gateway.send(connectionId, subscribeMessage('news'))).resolves.toEqual({
      event: 'pusher_internal:subscription_succeeded',
      channel: 'news',
      data: '{}',
    });
    expect(await listChannels(gateway.state, 'app-1', 'news', Date.now())).toEqual([
      { channel: 'news', subscriptionCount: 1, userCount: undefined },
    ]);
    expect((await getConnection(gateway.state, connectionId))?.channels).toEqual(['news']);
  });

  it('subscribes to a private channel with the auth the pusher SDK signed for this socket', async () => {
    const { connectionId, socketId } = await gateway.connect('app-1-key');
    const authorization = backend('app-1').authorizeChannel(socketId, 'private-orders');

    await expect(
      gateway.send(connectionId, subscribeMessage('private-orders', authorization)),
    ).resolves.toEqual({
      event: 'pusher_internal:subscription_succeeded',
      channel: 'private-orders',
      data: '{}',
    });
  });

  it('subscribes to an encrypted channel; the SDK hands the client the shared secret the server never needs', async () => {
    const { connectionId, socketId } = await gateway.connect('app-1-key');
    const authorization = backend('app-1').authorizeChannel(socketId, 'private-encrypted-vault') as {
      auth: string;
      shared_secret: string;
    };
    expect(authorization.shared_secret).toBe(
      sharedSecretForEncryptedChannel('private-encrypted-vault', MASTER_KEY),
    );

    await expect(
      gateway.send(connectionId, subscribeMessage('private-encrypted-vault', { auth: authorization.auth })),
    ).resolves.toMatchObject({
      event: 'pusher_internal:subscription_succeeded',
      channel: 'private-encrypted-vault',
    });
  });

  it.each([
    { why: 'no auth', auth: () => '' },
    {
      why: 'a signature made with another secret',
      auth: (socketId: string) => forged(socketId, 'not-the-secret'),
    },
    {
      why: 'the auth of another socket',
      auth: () => backend('app-1').authorizeChannel('1234.5678', 'private-orders').auth,
    },
    {
      why: 'the auth of another app',
      auth: (socketId: string) => backend('app-small').authorizeChannel(socketId, 'private-orders').auth,
    },
  ])(
    'refuses a private subscription with $why: pusher:subscription_error AuthError 401',
    async ({ auth }) => {
      const { connectionId, socketId } = await gateway.connect('app-1-key');

      const reply = await gateway.send(
        connectionId,
        subscribeMessage('private-orders', { auth: auth(socketId) }),
      );

      expect(reply).toEqual({
        event: 'pusher:subscription_error',
        channel: 'private-orders',
        data: { type: 'AuthError', error: expect.stringMatching(/auth/i), status: 401 },
      });
      expect((await getConnection(gateway.state, connectionId))?.channels).toEqual([]);
    },
  );

  it('answers a repeated subscription again without counting it twice', async () => {
    const { connectionId } = await gateway.connect('app-1-key');
    await gateway.send(connectionId, subscribeMessage('twice'));

    await expect(gateway.send(connectionId, subscribeMessage('twice'))).resolves.toMatchObject({
      event: 'pusher_internal:subscription_succeeded',
    });
    expect(await listChannels(gateway.state, 'app-1', 'twice', Date.now())).toEqual([
      { channel: 'twice', subscriptionCount: 1, userCount: undefined },
    ]);
  });

  it.each([
    { channel: 'a'.repeat(21), type: 'LimitReached', error: /too long: 21 characters, the limit is 20/ },
    { channel: 'bad channel', type: 'InvalidChannel', error: /only A-Z a-z 0-9/ },
    { channel: '#reserved', type: 'InvalidChannel', error: /reserved/ },
  ])('refuses the channel name $channel with $type 4009', async ({ channel, type, error }) => {
    const { connectionId } = await gateway.connect('app-small-key');

    await expect(gateway.send(connectionId, subscribeMessage(channel))).resolves.toEqual({
      event: 'pusher:subscription_error',
      channel,
      data: { type, error: expect.stringMatching(error), status: 4009 },
    });
  });

  it('unsubscribes: the connection and the channel index forget the channel, and nothing is answered', async () => {
    const { connectionId } = await gateway.connect('app-1-key');
    await gateway.send(connectionId, subscribeMessage('brief'));

    await expect(
      gateway.send(connectionId, { event: 'pusher:unsubscribe', data: { channel: 'brief' } }),
    ).resolves.toBeUndefined();
    expect((await getConnection(gateway.state, connectionId))?.channels).toEqual([]);
    expect(await listChannels(gateway.state, 'app-1', 'brief', Date.now())).toEqual([]);
    await expect(
      gateway.send(connectionId, { event: 'pusher:unsubscribe', data: { channel: 'brief' } }),
    ).resolves.toBeUndefined();
  });
});

describe('$default: presence channels', () => {
  it('gives each subscriber the roster and announces a new member to the others only', async () => {
    const ann = await joinPresence('app-1', 'presence-room', { user_id: '1', user_info: { name: 'Ann' } });
    expect(ann.reply).toMatchObject({
      event: 'pusher_internal:subscription_succeeded',
      channel: 'presence-room',
    });
    expect(rosterOf(ann.reply)).toEqual({ ids: ['1'], hash: { 1: { name: 'Ann' } }, count: 1 });

    const bob = await joinPresence('app-1', 'presence-room', { user_id: '2' });
    expect(rosterOf(bob.reply)).toEqual({ ids: ['1', '2'], hash: { 1: { name: 'Ann' }, 2: null }, count: 2 });

    expect(framesAfterRoster(ann.connectionId)).toEqual([
      {
        event: 'pusher_internal:member_added',
        channel: 'presence-room',
        data: JSON.stringify({ user_id: '2' }),
      },
    ]);
    expect(framesAfterRoster(bob.connectionId)).toEqual([]);
    expect(await listChannels(gateway.state, 'app-1', 'presence-room', Date.now())).toEqual([
      { channel: 'presence-room', subscriptionCount: 2, userCount: 2 },
    ]);
  });

  it('counts a user once across connections: member_added and member_removed only for the first and the last', async () => {
    const ann = await joinPresence('app-1', 'presence-tabs', { user_id: 'ann' });
    const bob = await joinPresence('app-1', 'presence-tabs', { user_id: 'bob' });
    const annAgain = await joinPresence('app-1', 'presence-tabs', { user_id: 'ann' });

    expect(rosterOf(annAgain.reply)).toEqual({
      ids: ['ann', 'bob'],
      hash: { ann: null, bob: null },
      count: 2,
    });
    expect(framesAfterRoster(bob.connectionId)).toEqual([]);

    await gateway.send(annAgain.connectionId, {
      event: 'pusher:unsubscribe',
      data: { channel: 'presence-tabs' },
    });
    expect(framesAfterRoster(bob.connectionId)).toEqual([]);

    await gateway.send(ann.connectionId, { event: 'pusher:unsubscribe', data: { channel: 'presence-tabs' } });
    expect(framesAfterRoster(bob.connectionId)).toEqual([
      {
        event: 'pusher_internal:member_removed',
        channel: 'presence-tabs',
        data: JSON.stringify({ user_id: 'ann' }),
      },
    ]);
    expect(await listChannels(gateway.state, 'app-1', 'presence-tabs', Date.now())).toEqual([
      { channel: 'presence-tabs', subscriptionCount: 1, userCount: 1 },
    ]);
  });

  it('reads a numeric user_id as a string and signs channel_data exactly as the SDK serialized it', async () => {
    const { reply } = await joinPresence('app-1', 'presence-numbers', {
      user_id: 10 as unknown as string,
      user_info: { name: 'Mr. Pusher' },
    });

    expect(rosterOf(reply)).toEqual({ ids: ['10'], hash: { 10: { name: 'Mr. Pusher' } }, count: 1 });
  });

  it('refuses a new member past MaxPresenceMembersPerChannel, but not another connection of a present user', async () => {
    await joinPresence('app-small', 'presence-full', { user_id: 'a' });
    await joinPresence('app-small', 'presence-full', { user_id: 'b' });

    const third = await joinPresence('app-small', 'presence-full', { user_id: 'c' });
    expect(third.reply).toEqual({
      event: 'pusher:subscription_error',
      channel: 'presence-full',
      data: { type: 'LimitReached', error: expect.stringMatching(/maximum members.*\(2\)/), status: 4100 },
    });
    expect((await getConnection(gateway.state, third.connectionId))?.channels).toEqual([]);

    const secondTab = await joinPresence('app-small', 'presence-full', { user_id: 'a' });
    expect(rosterOf(secondTab.reply)).toMatchObject({ ids: ['a', 'b'], count: 2 });
    expect(await listChannels(gateway.state, 'app-small', 'presence-full', Date.now())).toEqual([
      { channel: 'presence-full', subscriptionCount: 3, userCount: 2 },
    ]);
  });

  it('refuses user_info over MaxPresenceMemberSizeInKb with LimitReached 4301', async () => {
    const { reply } = await joinPresence('app-small', 'presence-big', {
      user_id: 'a',
      user_info: { bio: 'x'.repeat(1100) },
    });

    expect(reply).toEqual({
      event: 'pusher:subscription_error',
      channel: 'presence-big',
      data: {
        type: 'LimitReached',
        error: expect.stringMatching(/maximum size for a channel member is 1 KB/),
        status: 4301,
      },
    });
  });

  it.each([
    { why: 'without a user_id', channelData: JSON.stringify({ user_info: {} }) },
    { why: 'that is not JSON', channelData: 'not json' },
    { why: 'with a user_id over 200 characters', channelData: JSON.stringify({ user_id: 'u'.repeat(201) }) },
  ])('refuses correctly signed channel_data $why with InvalidChannelData 400', async ({ channelData }) => {
    const { connectionId, socketId } = await gateway.connect('app-1-key');
    const auth = forged(socketId, 'app-1-secret', 'presence-odd', channelData);

    await expect(
      gateway.send(connectionId, subscribeMessage('presence-odd', { auth, channel_data: channelData })),
    ).resolves.toMatchObject({
      event: 'pusher:subscription_error',
      data: { type: 'InvalidChannelData', status: 400 },
    });
  });
});

describe('$default: signin', () => {
  it('signs a user in with the auth the pusher SDK made, then takes the #server-to-user subscription pusher-js sends', async () => {
    const { connectionId, socketId } = await gateway.connect('app-1-key');
    const signed = backend('app-1').authenticateUser(socketId, { id: '42', user_info: { name: 'Zaphod' } });

    await expect(gateway.send(connectionId, { event: 'pusher:signin', data: signed })).resolves.toEqual({
      event: 'pusher:signin_success',
      data: { user_data: signed.user_data },
    });
    expect(await userConnectionIds(gateway.state, 'app-1', '42', Date.now())).toEqual([connectionId]);
    await expect(gateway.send(connectionId, subscribeMessage('#server-to-user-42'))).resolves.toEqual({
      event: 'pusher_internal:subscription_succeeded',
      channel: '#server-to-user-42',
      data: '{}',
    });
  });

  it('refuses #server-to-user of another user, or without signin, with AuthError 401', async () => {
    const signedIn = await gateway.connect('app-1-key');
    await gateway.send(signedIn.connectionId, {
      event: 'pusher:signin',
      data: backend('app-1').authenticateUser(signedIn.socketId, { id: '7' }),
    });
    const anonymous = await gateway.connect('app-1-key');

    for (const connectionId of [signedIn.connectionId, anonymous.connectionId]) {
      await expect(gateway.send(connectionId, subscribeMessage('#server-to-user-8'))).resolves.toMatchObject({
        event: 'pusher:subscription_error',
        data: { type: 'AuthError', status: 401 },
      });
    }
    await expect(
      gateway.send(anonymous.connectionId, subscribeMessage('#server-to-user-7')),
    ).resolves.toMatchObject({
      event: 'pusher:subscription_error',
    });
  });

  it.each([
    {
      why: 'a forged signature',
      sign: (socketId: string) =>
        signUser({ key: 'app-1-key', secret: 'not-the-secret', socketId, userData: '{"id":"1"}' }),
    },
    {
      why: 'user_data without an id',
      sign: (socketId: string) =>
        signUser({ key: 'app-1-key', secret: 'app-1-secret', socketId, userData: '{"name":"x"}' }),
    },
  ])('refuses $why with pusher:error 4009 and keeps the connection', async ({ sign }) => {
    const { connectionId, socketId } = await gateway.connect('app-1-key');

    await expect(
      gateway.send(connectionId, { event: 'pusher:signin', data: sign(socketId) }),
    ).resolves.toEqual({
      event: 'pusher:error',
      data: { code: 4009, message: expect.stringMatching(/^Invalid signin/) },
    });
    expect(gateway.connectionsApi.isOpen(connectionId)).toBe(true);
  });

  it('lets a signed-in user join a presence channel without channel_data, as that user', async () => {
    const { connectionId, socketId } = await gateway.connect('app-1-key');
    const pusher = backend('app-1');
    await gateway.send(connectionId, {
      event: 'pusher:signin',
      data: pusher.authenticateUser(socketId, { id: 'me', user_info: { n: 1 } }),
    });

    const [reply] = await gateway.exchange(
      connectionId,
      subscribeMessage('presence-signed', pusher.authorizeChannel(socketId, 'presence-signed')),
    );

    expect(rosterOf(reply)).toEqual({ ids: ['me'], hash: { me: { n: 1 } }, count: 1 });
  });

  it('refuses a presence subscription without channel_data from a connection that has not signed in', async () => {
    const { connectionId, socketId } = await gateway.connect('app-1-key');
    const reply = await gateway.send(
      connectionId,
      subscribeMessage('presence-anon', backend('app-1').authorizeChannel(socketId, 'presence-anon')),
    );

    expect(reply).toMatchObject({
      event: 'pusher:subscription_error',
      data: { type: 'AuthError', status: 401 },
    });
  });
});

describe('$default: DynamoDB calls per message (the README table)', () => {
  /** Operations by name, without the app lookup (cached in a warm container; this harness disables the cache). */
  async function callsOf(action: () => Promise<unknown>): Promise<Record<string, number>> {
    proxy.resetCounts();
    await action();
    const counts: Record<string, number> = {};
    for (const operation of ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query']) {
      const count = proxy.count(operation) - (operation === 'GetItem' ? 1 : 0);
      if (count > 0) counts[operation] = count;
    }
    return counts;
  }

  it('public or private subscribe: four writes (the last checks the connection is still there); unsubscribe of the last subscriber: four', async () => {
    const { connectionId } = await gateway.connect('app-1-key');

    expect(await callsOf(() => gateway.send(connectionId, subscribeMessage('costly')))).toEqual({
      UpdateItem: 3,
      PutItem: 1,
    });
    proxy.resetCounts();
    await gateway.send(connectionId, { event: 'pusher:unsubscribe', data: { channel: 'costly' } });
    expect(proxy.count()).toBe(4);
    expect([proxy.count('UpdateItem'), proxy.count('DeleteItem')]).toEqual([2, 2]);
  });

  it('presence subscribe of a new member: five writes and two Queries, plus the roster and one post per other subscriber', async () => {
    await joinPresence('app-1', 'presence-costly', { user_id: 'first' });
    const { connectionId, socketId } = await gateway.connect('app-1-key');
    const authorization = backend('app-1').authorizeChannel(socketId, 'presence-costly', {
      user_id: 'second',
    });

    expect(
      await callsOf(() => gateway.send(connectionId, subscribeMessage('presence-costly', authorization))),
    ).toEqual({
      UpdateItem: 4,
      PutItem: 1,
      Query: 2,
    });
  });

  it("presence unsubscribe of a user's last connection: three writes, the member deleted, two Queries (announce, then check the user is not back)", async () => {
    await joinPresence('app-1', 'presence-leaving', { user_id: 'stays' });
    const { connectionId } = await joinPresence('app-1', 'presence-leaving', { user_id: 'goes' });

    expect(
      await callsOf(() =>
        gateway.send(connectionId, { event: 'pusher:unsubscribe', data: { channel: 'presence-leaving' } }),
      ),
    ).toEqual({ UpdateItem: 2, DeleteItem: 2, Query: 2 });
  });

  it('signin: one UpdateItem and one PutItem', async () => {
    const { connectionId, socketId } = await gateway.connect('app-1-key');
    const signed = backend('app-1').authenticateUser(socketId, { id: 'cheap' });

    expect(await callsOf(() => gateway.send(connectionId, { event: 'pusher:signin', data: signed }))).toEqual(
      {
        UpdateItem: 1,
        PutItem: 1,
      },
    );
  });
});

describe('$default: bad messages and failures', () => {
  it.each([
    { why: 'invalid JSON', body: '{"event":', message: /JSON object/ },
    { why: 'no event', body: '{"data":{}}', message: /no "event"/ },
    {
      why: 'an unknown pusher event',
      body: '{"event":"pusher:dance","data":{}}',
      message: /Unsupported event "pusher:dance"/,
    },
    {
      why: 'a subscribe without a channel',
      body: '{"event":"pusher:subscribe","data":{}}',
      message: /needs data.channel/,
    },
    {
      why: 'a signin without user_data',
      body: '{"event":"pusher:signin","data":{"auth":"a:b"}}',
      message: /user_data/,
    },
  ])('answers $why with pusher:error, code null, and keeps the connection', async ({ body, message }) => {
    const { connectionId } = await gateway.connect('app-1-key');

    await expect(gateway.send(connectionId, body)).resolves.toEqual({
      event: 'pusher:error',
      data: { code: null, message: expect.stringMatching(message) },
    });
    expect(gateway.connectionsApi.isOpen(connectionId)).toBe(true);
  });

  it('routes client events to client-event handling: refused with 4301 where the app does not enable them', async () => {
    const { connectionId } = await gateway.connect('app-1-key');

    await expect(
      gateway.send(connectionId, { event: 'client-typing', channel: 'private-x', data: {} }),
    ).resolves.toEqual({
      event: 'pusher:error',
      data: { code: 4301, message: 'The app does not have client messaging enabled.' },
    });
    expect(gateway.connectionsApi.isOpen(connectionId)).toBe(true);
  });

  it('ignores messages of a connection the authorizer refused (the greeter closes it)', async () => {
    const { connectionId } = await gateway.upgrade('nobody-key');

    await expect(gateway.send(connectionId, subscribeMessage('news'))).resolves.toBeUndefined();
  });

  it('closes a connection the state table does not know (not admitted, or cleaned up)', async () => {
    const { connectionId } = await gateway.connect('app-1-key');
    // $disconnect ran (its record is gone) while API Gateway still holds the connection open.
    await gateway.handlers.disconnect(
      wsProxyEvent({ routeKey: '$disconnect', connectionId }),
      lambdaContext(),
    );

    await expect(gateway.send(connectionId, subscribeMessage('news'))).resolves.toBeUndefined();
    expect(gateway.connectionsApi.deleted).toContain(connectionId);
  });

  it('tells a connection whose app was disabled since it connected 4003, and closes it', async () => {
    const { connectionId } = await gateway.connect('app-later-off-key');
    await gateway.apps.put(appItem('app-later-off', { Enabled: bytes('false') }));

    await expect(gateway.send(connectionId, subscribeMessage('news'))).resolves.toBeUndefined();
    expect(gateway.connectionsApi.framesOf(connectionId).at(-1)).toEqual({
      event: 'pusher:error',
      data: { code: 4003, message: 'Application disabled' },
    });
    expect(gateway.connectionsApi.deleted).toContain(connectionId);
  });

  // Calls of a subscribe here (no app cache): GetItem (app), UpdateItem (connection's set), UpdateItem
  // (count), PutItem (subscriber), then for presence UpdateItem (member), Query (roster), roster post, ...
  it.each([
    ['halfway-count', 2],
    ['halfway-subscriber', 3],
    ['presence-halfway-count', 2],
    ['presence-halfway-subscriber', 3],
    ['presence-halfway-member', 4],
    ['presence-halfway-roster', 5],
  ])(
    'takes back a subscription to %s that failed after %i calls, so that trying again subscribes for real',
    async (channel, after) => {
      const { connectionId, socketId } = await gateway.connect('app-1-key');
      const presence = channel.startsWith('presence-');
      const authorization = presence
        ? backend('app-1').authorizeChannel(socketId, channel, { user_id: 'r' })
        : {};
      proxy.setFault(DYNAMODB_FAULTS.internalError, { after, times: 2 });

      await expect(
        gateway.send(connectionId, subscribeMessage(channel, authorization)),
      ).resolves.toMatchObject({
        event: 'pusher:subscription_error',
        data: { type: 'ServerError', status: 503 },
      });
      const retried = await gateway.exchange(connectionId, subscribeMessage(channel, authorization));

      expect(retried.map((frame) => frame.event)).toEqual(['pusher_internal:subscription_succeeded']);
      const snapshot = await readChannel(gateway.state, 'app-1', channel, Date.now());
      expect(snapshot.subscriberConnectionIds).toEqual([connectionId]);
      expect(snapshot.members.map((member) => member.userId)).toEqual(presence ? ['r'] : []);
      const [counts] = await listChannels(gateway.state, 'app-1', channel, Date.now());
      expect(counts).toEqual({ channel, subscriptionCount: 1, userCount: presence ? 1 : undefined });
    },
  );

  // A write DynamoDB applied but reported failed, on both of the SDK's attempts: the subscribe is answered
  // ServerError and taken back, and each count it took is given back once, by the item found or else not.
  it.each([
    ['ambiguous-subscriber', 'PutItem', 0],
    ['presence-ambiguous-member', 'UpdateItem', 2],
  ])(
    'keeps the counts of %s true when its write was applied yet reported failed',
    async (channel, operation, after) => {
      const presence = channel.startsWith('presence-');
      const join = async (userId: string) => {
        const connection = await gateway.connect('app-1-key');
        const authorization = presence
          ? backend('app-1').authorizeChannel(connection.socketId, channel, { user_id: userId })
          : {};
        return { ...connection, authorization };
      };
      const first = await join('first');
      await gateway.send(first.connectionId, subscribeMessage(channel, first.authorization));
      const second = await join('second');
      // The second's writes after the connection's set: its count, its subscriber item, its member.
      proxy.setFault(DYNAMODB_FAULTS.internalErrorAfterApplying, { operation, after, times: 2 });

      await expect(
        gateway.send(second.connectionId, subscribeMessage(channel, second.authorization)),
      ).resolves.toMatchObject({
        event: 'pusher:subscription_error',
        data: { type: 'ServerError', status: 503 },
      });
      proxy.setFault(undefined);
      const takenBack = await listChannels(gateway.state, 'app-1', channel, Date.now());
      expect(takenBack).toEqual([{ channel, subscriptionCount: 1, userCount: presence ? 1 : undefined }]);
      const retried = await gateway.exchange(
        second.connectionId,
        subscribeMessage(channel, second.authorization),
      );

      expect(retried.map((frame) => frame.event)).toEqual(['pusher_internal:subscription_succeeded']);
      expect(await listChannels(gateway.state, 'app-1', channel, Date.now())).toEqual([
        { channel, subscriptionCount: 2, userCount: presence ? 2 : undefined },
      ]);
    },
  );

  it("gives back the count of a present user's other connection whose subscriber write failed (channel full)", async () => {
    const channel = 'presence-full-retry';
    const join = async (userId: string) => {
      const connection = await gateway.connect('app-small-key');
      const authorization = backend('app-small').authorizeChannel(connection.socketId, channel, {
        user_id: userId,
      });
      return { ...connection, authorization };
    };
    for (const userId of ['a', 'b']) {
      const { connectionId, authorization } = await join(userId);
      await gateway.send(connectionId, subscribeMessage(channel, authorization));
    }
    const full = await listChannels(gateway.state, 'app-small', channel, Date.now());
    expect(full).toEqual([{ channel, subscriptionCount: 2, userCount: 2 }]);
    const second = await join('b');
    // Its first PutItem joins it to the present member b; the second, its subscriber item, fails.
    proxy.setFault(DYNAMODB_FAULTS.internalError, { operation: 'PutItem', after: 1, times: 2 });

    await expect(
      gateway.send(second.connectionId, subscribeMessage(channel, second.authorization)),
    ).resolves.toMatchObject({
      event: 'pusher:subscription_error',
      data: { type: 'ServerError', status: 503 },
    });

    expect(await listChannels(gateway.state, 'app-small', channel, Date.now())).toEqual(full);
    const retried = await gateway.exchange(
      second.connectionId,
      subscribeMessage(channel, second.authorization),
    );
    expect(retried.map((frame) => frame.event)).toEqual(['pusher_internal:subscription_succeeded']);
    expect(await listChannels(gateway.state, 'app-small', channel, Date.now())).toEqual([
      { channel, subscriptionCount: 3, userCount: 2 },
    ]);
  });

  it('keeps a presence subscription whose roster went out when a later step fails, and answers no error', async () => {
    const { connectionId, socketId } = await gateway.connect('app-1-key');
    const channel = 'presence-halfway-after-roster';
    const authorization = backend('app-1').authorizeChannel(socketId, channel, { user_id: 'kept' });
    // Everything up to the roster passes: the check that the connection still holds the channel fails.
    proxy.resetCounts();
    proxy.setFault(DYNAMODB_FAULTS.internalError, { after: 6, times: 2 });

    const frames = await gateway.exchange(connectionId, subscribeMessage(channel, authorization));
    proxy.setFault(undefined);

    // The fault was met: the last read of the subscribe, after the failed check, never happened.
    expect(proxy.count('Query')).toBe(1);

    expect(frames.map((frame) => frame.event)).toEqual(['pusher_internal:subscription_succeeded']);
    const snapshot = await readChannel(gateway.state, 'app-1', channel, Date.now());
    expect(snapshot.subscriberConnectionIds).toEqual([connectionId]);
    expect(snapshot.members.map((member) => member.userId)).toEqual(['kept']);
  });

  it('answers a subscription DynamoDB cannot record with ServerError 503, without failing the invocation', async () => {
    const { connectionId } = await gateway.connect('app-1-key');
    proxy.setFault(DYNAMODB_FAULTS.internalError);

    await expect(gateway.send(connectionId, subscribeMessage('news'))).resolves.toEqual({
      event: 'pusher:subscription_error',
      channel: 'news',
      data: { type: 'ServerError', error: expect.any(String), status: 503 },
    });
  });
});

describe('$default: bounds per connection', () => {
  it('refuses a 101st subscription with LimitReached, and takes one again once the connection leaves one', async () => {
    const { connectionId } = await gateway.connect('app-1-key');
    for (let i = 0; i < 100; i++) await gateway.send(connectionId, subscribeMessage(`many-${i}`));

    const refused = await gateway.send(connectionId, subscribeMessage('many-100'));
    await gateway.send(connectionId, { event: 'pusher:unsubscribe', data: { channel: 'many-0' } });
    const taken = await gateway.send(connectionId, subscribeMessage('many-100'));

    expect(refused).toEqual({
      event: 'pusher:subscription_error',
      channel: 'many-100',
      data: {
        type: 'LimitReached',
        error: 'A connection may hold at most 100 subscriptions; unsubscribe from one first',
        status: 4100,
      },
    });
    expect(taken).toMatchObject({ event: 'pusher_internal:subscription_succeeded', channel: 'many-100' });
    expect((await getConnection(gateway.state, connectionId))?.channels).toHaveLength(100);
    expect(await listChannels(gateway.state, 'app-1', 'many-0', Date.now())).toEqual([]);
  });
});

describe('$default: the subscribe and signin rate of a connection', () => {
  let rated: WsHarness;

  beforeAll(async () => {
    // Three at once, then one every 100 s: nothing comes back during the test, however slow the machine.
    rated = await WsHarness.start('ws-rated', [appItem('app-rated')], {
      env: { CONNECTION_OPS_PER_SECOND: '0.01', CONNECTION_OPS_BURST: '3' },
    });
  });

  afterAll(async () => {
    await rated?.close();
  });

  const tooFast =
    'A connection may subscribe and sign in at most 0.01 times a second (3 at once); try again shortly';

  it('refuses a subscribe and a signin past the burst with 4301, and still takes every unsubscribe', async () => {
    const { connectionId, socketId } = await rated.connect('app-rated-key');
    const answers = [];
    for (const channel of ['a', 'b', 'c', 'd'])
      answers.push(await rated.send(connectionId, subscribeMessage(channel)));
    const signed = backend('app-rated').authenticateUser(socketId, { id: 'quick' });
    const signin = await rated.send(connectionId, { event: 'pusher:signin', data: signed });
    const unsubscribed = await rated.send(connectionId, {
      event: 'pusher:unsubscribe',
      data: { channel: 'a' },
    });

    expect(answers.map((answer) => answer?.event)).toEqual([
      'pusher_internal:subscription_succeeded',
      'pusher_internal:subscription_succeeded',
      'pusher_internal:subscription_succeeded',
      'pusher:subscription_error',
    ]);
    expect(answers[3]).toEqual({
      event: 'pusher:subscription_error',
      channel: 'd',
      data: { type: 'LimitReached', error: tooFast, status: 4301 },
    });
    expect(signin).toEqual({ event: 'pusher:error', data: { message: tooFast, code: 4301 } });
    expect(unsubscribed).toBeUndefined();
    const record = await getConnection(rated.state, connectionId);
    expect([...(record?.channels ?? [])].sort()).toEqual(['b', 'c']);
    expect(record?.user).toBeUndefined();
    expect(await listChannels(rated.state, 'app-rated', '', Date.now())).toEqual([
      expect.objectContaining({ channel: 'b', subscriptionCount: 1 }),
      expect.objectContaining({ channel: 'c', subscriptionCount: 1 }),
    ]);
  });

  it("keeps one connection's rate its own", async () => {
    const first = await rated.connect('app-rated-key');
    const second = await rated.connect('app-rated-key');
    for (const channel of ['a', 'b', 'c']) await rated.send(first.connectionId, subscribeMessage(channel));

    expect(await rated.send(second.connectionId, subscribeMessage('a'))).toMatchObject({
      event: 'pusher_internal:subscription_succeeded',
    });
  });
});

describe('$default: answered in time, before the Lambda timeout', () => {
  // Each DynamoDB call answers after this pause: a subscribe's five calls then take about 4 s.
  const SLOW_CALL_MS = 800;

  it('answers ServerError by its deadline when DynamoDB is slow, and what it wrote is taken back', async () => {
    const { connectionId } = await gateway.connect('app-1-key');
    const channel = 'slow-news';
    // commitBy 4 s in, answerBy 7 s in: the subscribe reaches its promise at about 4 s, too late, and its
    // take-back is done before answerBy.
    const remainingMs = ANSWER_RESERVE_MS + TAKE_BACK_RESERVE_MS + 4_000;
    proxy.setFault({ kind: 'delay', ms: SLOW_CALL_MS });
    const started = Date.now();

    const answer = await gateway.send(connectionId, subscribeMessage(channel), { remainingMs });

    expect(Date.now() - started).toBeLessThan(remainingMs);
    expect(answer).toMatchObject({
      event: 'pusher:subscription_error',
      channel,
      data: { type: 'ServerError', status: 503 },
    });
    proxy.setFault(undefined);
    // The take-back goes on after the answer, as it would in a container used again.
    await expect
      .poll(
        async () => (await readChannel(gateway.state, 'app-1', channel, Date.now())).subscriberConnectionIds,
        {
          timeout: 15_000,
          interval: 200,
        },
      )
      .toEqual([]);
    await expect
      .poll(async () => (await getConnection(gateway.state, connectionId))?.channels ?? [], {
        timeout: 5_000,
      })
      .toEqual([]);
    expect(await gateway.send(connectionId, subscribeMessage(channel))).toMatchObject({
      event: 'pusher_internal:subscription_succeeded',
    });
  });

  it('answers at answerBy itself when the take-back runs past it, and the take-back still finishes', async () => {
    const { connectionId } = await gateway.connect('app-1-key');
    const channel = 'slower-news';
    // commitBy 2 s in, answerBy 5 s in: the promise is refused at about 4 s, and the take-back (three more slow
    // calls) would answer at about 6.4 s; the handler answers at 5 s instead.
    const remainingMs = ANSWER_RESERVE_MS + TAKE_BACK_RESERVE_MS + 2_000;
    const answerByMs = remainingMs - ANSWER_RESERVE_MS;
    proxy.setFault({ kind: 'delay', ms: SLOW_CALL_MS });
    const started = Date.now();

    const answer = await gateway.send(connectionId, subscribeMessage(channel), { remainingMs });
    const answeredAfter = Date.now() - started;
    proxy.setFault(undefined);

    expect(answer).toMatchObject({ event: 'pusher:subscription_error', data: { type: 'ServerError' } });
    expect(answeredAfter).toBeGreaterThanOrEqual(answerByMs - 100);
    expect(answeredAfter).toBeLessThan(answerByMs + 1_000);
    await expect
      .poll(async () => (await getConnection(gateway.state, connectionId))?.channels ?? [], {
        timeout: 15_000,
      })
      .toEqual([]);
  });

  it('writes nothing when too little time is left to take a subscribe back', async () => {
    const { connectionId } = await gateway.connect('app-1-key');
    proxy.resetCounts();

    const answer = await gateway.send(connectionId, subscribeMessage('no-time'), {
      remainingMs: ANSWER_RESERVE_MS + TAKE_BACK_RESERVE_MS - 100,
    });

    expect(answer).toMatchObject({
      event: 'pusher:subscription_error',
      data: { type: 'ServerError', status: 503 },
    });
    expect(['UpdateItem', 'PutItem', 'DeleteItem'].map((operation) => proxy.count(operation))).toEqual([
      0, 0, 0,
    ]);
  });
});

describe('logs', () => {
  let logged: WsHarness;

  beforeAll(async () => {
    logged = await WsHarness.start('ws-logs', [appItem('app-log')], {
      env: { POWERTOOLS_LOG_LEVEL: 'INFO' },
    });
  });

  afterAll(async () => {
    await logged?.close();
  });

  it('refuse client-event data nested too deep with pusher:error, logged at INFO once, without the data', async () => {
    const { connectionId } = await logged.connect('app-log-key');
    // As the client's frame arrives: 10,000 levels, which JSON.stringify could not even encode again.
    const deep = `{"event":"client-deep","channel":"private-a","data":${'['.repeat(10_000)}"marker"${']'.repeat(10_000)}}`;

    const answers: unknown[] = [];
    const output = await capturedStdout(async () => {
      for (let i = 0; i < 3; i++) answers.push(await logged.send(connectionId, deep));
    });

    expect(answers).toEqual(
      Array(3).fill({
        event: 'pusher:error',
        data: { code: null, message: expect.stringMatching(/nests deeper than/) },
      }),
    );
    const lines = output
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.filter((line) => line.level !== 'DEBUG').map((line) => [line.level, line.message])).toEqual([
      ['INFO', 'message refused as malformed'],
    ]);
    expect(output).not.toContain('marker');
  });

  it('record refused subscriptions and signins by type and code, never a secret or an auth value', async () => {
    const { connectionId, socketId } = await logged.connect('app-log-key');
    const pusher = new Pusher({
      appId: 'app-log',
      key: 'app-log-key',
      secret: 'app-log-secret',
      host: '127.0.0.1',
    });
    const good = pusher.authorizeChannel(socketId, 'private-a').auth;
    const bad = signChannel({ key: 'app-log-key', secret: 'wrong', socketId, channel: 'private-a' }).auth;
    const signin = signUser({ key: 'app-log-key', secret: 'wrong', socketId, userData: '{"id":"1"}' });

    const output = await capturedStdout(async () => {
      await logged.send(connectionId, subscribeMessage('private-a', { auth: bad }));
      await logged.send(connectionId, subscribeMessage('private-a', { auth: good }));
      await logged.send(connectionId, { event: 'pusher:signin', data: signin });
    });

    const lines = output
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.filter((line) => line.message === 'message refused')).toMatchObject([
      {
        connectionId,
        reply: 'pusher:subscription_error',
        channel: 'private-a',
        type: 'AuthError',
        status: 401,
      },
      { connectionId, reply: 'pusher:error', code: 4009 },
    ]);
    for (const secretValue of [
      'app-log-secret',
      bad.split(':')[1]!,
      good.split(':')[1]!,
      signin.auth.split(':')[1]!,
    ]) {
      expect(output).not.toContain(secretValue);
    }
  });
});
