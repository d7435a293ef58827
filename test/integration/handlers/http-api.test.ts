import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listChannels } from '../../../src/state/channels.js';
import { getConnection } from '../../../src/state/connections.js';
import { userConnectionIds } from '../../../src/state/users.js';
import { appItem } from '../../fixtures/apps/items.js';
import { PublishHarness, sdkRefusal, type TestClient } from '../../fixtures/publish/publish-harness.js';

let harness: PublishHarness;

beforeAll(async () => {
  harness = await PublishHarness.start('http-api', [
    appItem('pub'),
    appItem('other', { MaxEventPayloadInKb: { N: '1' } }),
    appItem('boundless', { MaxChannelNameLength: { N: '-1' }, MaxEventPayloadInKb: { N: '100' } }),
    appItem('metered', { MaxBackendEventsPerSecond: { N: '10' }, MaxEventBatchSize: { N: '20' } }),
  ]);
});

afterAll(async () => {
  await harness?.close();
});

const pusher = () => harness.sdk('pub');
/** Channel names unique to a test, so tests never see each other's subscribers. */
let channelCount = 0;
const fresh = (prefix = '') => `${prefix}ch-${++channelCount}`;

/** Three connected clients of app `pub`, subscribed to nothing. */
async function threeClients(): Promise<[TestClient, TestClient, TestClient]> {
  const connect = () => harness.ws.connect('pub-key');
  return [await connect(), await connect(), await connect()];
}

describe('POST /apps/{appId}/events', () => {
  it('delivers the event to every subscriber of the channel, data exactly as sent, and answers {}', async () => {
    const channel = fresh();
    const [a, b] = [await harness.subscriber('pub', [channel]), await harness.subscriber('pub', [channel])];
    const elsewhere = await harness.subscriber('pub', [fresh()]);

    const response = await pusher().trigger(channel, 'order-placed', { id: 7, note: 'é "quoted"' });

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({});
    for (const client of [a!, b!]) {
      expect(harness.eventsOf(client)).toEqual([
        { event: 'order-placed', channel, data: '{"id":7,"note":"é \\"quoted\\""}' },
      ]);
    }
    expect(harness.eventsOf(elsewhere)).toEqual([]);
  });

  it('delivers to several channels at once, each frame naming its channel', async () => {
    const [first, second] = [fresh(), fresh('private-')];
    const both = await harness.subscriber('pub', [first, second]);
    const onlySecond = await harness.subscriber('pub', [second]);

    await pusher().trigger([first, second], 'tick', 'plain text');

    expect(harness.eventsOf(both)).toEqual(
      expect.arrayContaining([
        { event: 'tick', channel: first, data: 'plain text' },
        { event: 'tick', channel: second, data: 'plain text' },
      ]),
    );
    expect(harness.eventsOf(both)).toHaveLength(2);
    expect(harness.eventsOf(onlySecond)).toEqual([{ event: 'tick', channel: second, data: 'plain text' }]);
  });

  it('leaves out the connection whose socket_id is given', async () => {
    const channel = fresh();
    const sender = await harness.subscriber('pub', [channel]);
    const other = await harness.subscriber('pub', [channel]);

    await pusher().trigger(channel, 'echo', 'x', { socket_id: sender.socketId });

    expect(harness.eventsOf(sender)).toEqual([]);
    expect(harness.eventsOf(other)).toEqual([{ event: 'echo', channel, data: 'x' }]);
  });

  it('answers the channels info asks for: user_count on presence channels, subscription_count on any', async () => {
    const [presence, plain] = [fresh('presence-'), fresh()];
    await harness.subscriber('pub', [presence, plain], { user_id: 'ann' });
    await harness.subscriber('pub', [presence], { user_id: 'ann' });
    await harness.subscriber('pub', [presence], { user_id: 'bob' });

    const response = await pusher().trigger([presence, plain], 'e', 'd', {
      info: 'user_count,subscription_count',
    });

    expect(await response.json()).toEqual({
      channels: {
        [presence]: { user_count: 2, subscription_count: 3 },
        [plain]: { subscription_count: 1 },
      },
    });
  });

  it('sends to a user signed in but not yet subscribed to #server-to-user-<id>, and once to one that is', async () => {
    const fresh = await harness.subscriber('pub', []);
    const signed = harness.sdk('pub').authenticateUser(fresh.socketId, { id: 'user-early' });
    const reply = await harness.ws.send(fresh.connectionId, { event: 'pusher:signin', data: signed });
    expect(reply?.event).toBe('pusher:signin_success');
    const settled = await harness.subscriber('pub', []);
    await harness.signIn('pub', settled, 'user-early');

    await pusher().sendToUser('user-early', 'notice', { early: true });

    const frame = { event: 'notice', channel: '#server-to-user-user-early', data: '{"early":true}' };
    expect(harness.eventsOf(fresh)).toEqual([frame]);
    expect(harness.eventsOf(settled)).toEqual([frame]);
  });

  it('sends to a signed-in user through #server-to-user-<id> (sendToUser), on each of their connections', async () => {
    const [phone, laptop, stranger] = await threeClients();
    await harness.signIn('pub', phone, 'user-5');
    await harness.signIn('pub', laptop, 'user-5');
    await harness.signIn('pub', stranger, 'user-6');

    const response = await pusher().sendToUser('user-5', 'notice', { unread: 3 });

    expect(response.status).toBe(200);
    for (const client of [phone, laptop]) {
      expect(harness.eventsOf(client)).toEqual([
        { event: 'notice', channel: '#server-to-user-user-5', data: '{"unread":3}' },
      ]);
    }
    expect(harness.eventsOf(stranger)).toEqual([]);
  });

  it('publishes to a channel nobody is on, and to another app only its own subscribers', async () => {
    const channel = fresh();
    const ofOtherApp = await harness.subscriber('other', [channel]);

    const response = await pusher().trigger(channel, 'e', 'd', { info: 'subscription_count' });

    expect(await response.json()).toEqual({ channels: { [channel]: { subscription_count: 0 } } });
    expect(harness.eventsOf(ofOtherApp)).toEqual([]);
  });

  it('cleans up connections API Gateway answers 410 for, and still delivers to the others', async () => {
    const channel = fresh('presence-');
    const vanished = await harness.subscriber('pub', [channel], { user_id: 'gone' });
    const alive = await harness.subscriber('pub', [channel], { user_id: 'here' });
    harness.ws.connectionsApi.drop(vanished.connectionId); // no $disconnect: AWS does not guarantee it

    const response = await pusher().trigger(channel, 'e', 'd');
    // The route hands what it found gone to the fan-out worker, off its response path.
    await harness.fanOutSettled();

    expect(response.status).toBe(200);
    expect(harness.eventsOf(alive)).toEqual([{ event: 'e', channel, data: 'd' }]);
    expect(await getConnection(harness.ws.state, vanished.connectionId)).toBeUndefined();
    expect(await listChannels(harness.ws.state, 'pub', channel, Date.now())).toEqual([
      { channel, subscriptionCount: 1, userCount: 1 },
    ]);
    expect(harness.ws.connectionsApi.framesOf(alive.connectionId).at(-1)).toEqual({
      event: 'pusher_internal:member_removed',
      channel,
      data: '{"user_id":"gone"}',
    });
  });

  it('answers a refused publish with the status and message the SDK reports', async () => {
    const channel = fresh();
    const subscriber = await harness.subscriber('other', [channel]);

    await expect(sdkRefusal(harness.sdk('other').trigger(channel, 'e', 'x'.repeat(1025)))).resolves.toEqual({
      status: 413,
      body: 'data is 1025 bytes, over the allowed maximum of 1024 bytes (MaxEventPayloadInKb 1).',
    });
    expect(harness.eventsOf(subscriber)).toEqual([]);
  });
});

describe('POST /apps/{appId}/batch_events', () => {
  it('delivers every event in order and answers {}', async () => {
    const [first, second] = [fresh(), fresh()];
    const client = await harness.subscriber('pub', [first, second]);

    const response = await pusher().triggerBatch([
      { channel: first, name: 'one', data: '1' },
      { channel: second, name: 'two', data: { n: 2 } },
      { channel: first, name: 'three', data: '3' },
    ]);

    expect(await response.json()).toEqual({});
    expect(harness.eventsOf(client)).toEqual([
      { event: 'one', channel: first, data: '1' },
      { event: 'two', channel: second, data: '{"n":2}' },
      { event: 'three', channel: first, data: '3' },
    ]);
  });

  it('answers info per event, aligned with the batch, and honours each socket_id', async () => {
    const [presence, plain] = [fresh('presence-'), fresh()];
    const sender = await harness.subscriber('pub', [presence, plain], { user_id: 'u1' });
    const other = await harness.subscriber('pub', [plain]);

    const response = await pusher().triggerBatch([
      { channel: presence, name: 'a', data: 'x', info: 'user_count' },
      { channel: plain, name: 'b', data: 'y', socket_id: sender.socketId },
      { channel: plain, name: 'c', data: 'z', info: 'subscription_count' },
    ]);

    expect(await response.json()).toEqual({
      batch: [{ user_count: 1 }, {}, { subscription_count: 2 }],
    });
    expect(harness.eventsOf(sender).map((frame) => frame.event)).toEqual(['a', 'c']);
    expect(harness.eventsOf(other).map((frame) => frame.event)).toEqual(['b', 'c']);
  });
});

describe('GET /apps/{appId}/channels', () => {
  it('lists occupied channels by prefix, with user_count for presence- and subscription_count, never #server-to-user', async () => {
    const prefix = `${fresh('presence-')}-`;
    const [room1, room2] = [`${prefix}a`, `${prefix}b`];
    await harness.subscriber('pub', [room1], { user_id: 'x' });
    await harness.subscriber('pub', [room1], { user_id: 'y' });
    await harness.subscriber('pub', [room2], { user_id: 'x' });
    const signedIn = await harness.ws.connect('pub-key');
    await harness.signIn('pub', signedIn, 'listed-nowhere');

    const plain = await pusher().get({ path: '/channels', params: { filter_by_prefix: prefix } });
    const counted = await pusher().get({
      path: '/channels',
      params: { filter_by_prefix: prefix, info: 'user_count,subscription_count' },
    });
    const all = (await (await pusher().get({ path: '/channels' })).json()) as { channels: object };

    expect(await plain.json()).toEqual({ channels: { [room1]: {}, [room2]: {} } });
    expect(await counted.json()).toEqual({
      channels: {
        [room1]: { user_count: 2, subscription_count: 2 },
        [room2]: { user_count: 1, subscription_count: 1 },
      },
    });
    expect(Object.keys(all.channels)).toEqual(expect.arrayContaining([room1, room2]));
    expect(Object.keys(all.channels).some((name) => name.startsWith('#'))).toBe(false);
  });

  it('refuses info=user_count without filter_by_prefix=presence- (400)', async () => {
    await expect(
      sdkRefusal(pusher().get({ path: '/channels', params: { info: 'user_count' } })),
    ).resolves.toEqual({ status: 400, body: expect.stringContaining('filter_by_prefix=presence-') });
    await expect(
      sdkRefusal(pusher().get({ path: '/channels', params: { info: 'members' } })),
    ).resolves.toEqual({ status: 400, body: expect.stringContaining('unknown attribute "members"') });
  });
});

describe('GET /apps/{appId}/channels/{channel}', () => {
  it('tells whether a channel is occupied, with the counts asked for', async () => {
    const [presence, plain] = [fresh('presence-'), fresh()];
    await harness.subscriber('pub', [presence, plain], { user_id: 'p1' });
    await harness.subscriber('pub', [presence], { user_id: 'p1' });

    const read = async (channel: string, info?: string) =>
      (await pusher().get({ path: `/channels/${channel}`, params: info ? { info } : {} })).json();

    expect(await read(presence, 'user_count,subscription_count')).toEqual({
      occupied: true,
      user_count: 1,
      subscription_count: 2,
    });
    expect(await read(plain, 'subscription_count')).toEqual({ occupied: true, subscription_count: 1 });
    expect(await read(fresh())).toEqual({ occupied: false });
  });

  it('refuses an attribute the channel type lacks (400)', async () => {
    for (const [channel, info] of [
      [fresh(), 'user_count'],
      [fresh('private-'), 'cache'],
    ] as const) {
      await expect(
        sdkRefusal(pusher().get({ path: `/channels/${channel}`, params: { info } })),
      ).resolves.toEqual({ status: 400, body: expect.stringContaining(`info=${info} is only available`) });
    }
  });
});

describe('GET /apps/{appId}/channels/{channel}/users', () => {
  it('lists the members of a presence channel, each once', async () => {
    const channel = fresh('presence-');
    await harness.subscriber('pub', [channel], { user_id: '1' });
    await harness.subscriber('pub', [channel], { user_id: '1' });
    await harness.subscriber('pub', [channel], { user_id: '2' });

    const response = await pusher().get({ path: `/channels/${channel}/users` });

    expect(await response.json()).toEqual({ users: [{ id: '1' }, { id: '2' }] });
  });

  it('refuses other channel types (400)', async () => {
    await expect(sdkRefusal(pusher().get({ path: `/channels/${fresh('private-')}/users` }))).resolves.toEqual(
      {
        status: 400,
        body: expect.stringContaining('only be listed for presence channels'),
      },
    );
  });
});

describe('POST /apps/{appId}/users/{userId}/terminate_connections', () => {
  it('closes every connection signed in as the user, telling each why, and removes them from presence', async () => {
    const channel = fresh('presence-');
    const [phone, laptop, friend] = await threeClients();
    await harness.signIn('pub', phone, 'leaver');
    await harness.signIn('pub', laptop, 'leaver');
    await harness.signIn('pub', friend, 'stayer');
    await harness.subscribe('pub', phone, channel);
    await harness.subscribe('pub', friend, channel);

    const response = await pusher().terminateUserConnections('leaver');

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({});
    expect(harness.ws.connectionsApi.deleted).toEqual(
      expect.arrayContaining([phone.connectionId, laptop.connectionId]),
    );
    expect(harness.ws.connectionsApi.deleted).not.toContain(friend.connectionId);
    expect(harness.ws.connectionsApi.framesOf(phone.connectionId).at(-1)).toEqual({
      event: 'pusher:error',
      data: { code: 4009, message: 'You got disconnected by the app.' },
    });
    expect(await userConnectionIds(harness.ws.state, 'pub', 'leaver', Date.now())).toEqual([]);
    const users = await pusher().get({ path: `/channels/${channel}/users` });
    expect(await users.json()).toEqual({ users: [{ id: 'stayer' }] });
    expect(harness.ws.connectionsApi.framesOf(friend.connectionId).at(-1)).toEqual({
      event: 'pusher_internal:member_removed',
      channel,
      data: '{"user_id":"leaver"}',
    });
  });

  it('answers {} for a user with no connection', async () => {
    const response = await pusher().terminateUserConnections('nobody-here');
    expect(await response.json()).toEqual({});
  });
});

describe('bounds no app setting lifts', () => {
  const boundless = () => harness.sdk('boundless');
  const longName = `c${'x'.repeat(2_999)}`;

  it('answers 400, never 500, to a 3,000-character channel name, even with MaxChannelNameLength unlimited', async () => {
    // The SDK's trigger refuses such a name itself; its generic post sends it signed as any other request.
    const body = { name: 'e', data: 'x', channels: [longName] };
    // Its types say a string, but it JSON-encodes the body it is given.
    await expect(
      sdkRefusal(boundless().post({ path: '/events', body: body as unknown as string })),
    ).resolves.toEqual({
      status: 400,
      body: expect.stringContaining('channel'),
    });
    await expect(sdkRefusal(boundless().get({ path: `/channels/${longName}` }))).resolves.toEqual({
      status: 400,
      body: expect.stringContaining('channel'),
    });
    await expect(
      sdkRefusal(boundless().get({ path: '/channels', params: { filter_by_prefix: longName } })),
    ).resolves.toEqual({ status: 400, body: expect.stringContaining('longer than any channel name') });
  });

  it('answers 413 to 70 KB of quotes: under the 100 KB data limit, about 140 KB once escaped in the frame', async () => {
    const channel = fresh();
    const subscriber = await harness.subscriber('boundless', [channel]);
    await expect(sdkRefusal(boundless().trigger(channel, 'e', '"'.repeat(70_000)))).resolves.toEqual({
      status: 413,
      body: expect.stringContaining("over API Gateway's limit of 128000 bytes per message"),
    });
    expect(harness.eventsOf(subscriber)).toEqual([]);
  });
});

describe('a publish larger than the rate limit', () => {
  const metered = () => harness.sdk('metered');

  it('answers 400 naming the limit, not 429: no window can ever admit it', async () => {
    const channels = Array.from({ length: 11 }, () => fresh());
    const subscriber = await harness.subscriber('metered', channels);
    const batch = Array.from({ length: 12 }, (_, i) => ({ channel: channels[0]!, name: `e${i}`, data: 'x' }));

    const refusals = [
      await sdkRefusal(metered().triggerBatch(batch)),
      await sdkRefusal(metered().trigger(channels, 'e', 'x')),
    ];

    expect(refusals).toEqual([
      {
        status: 400,
        body: "This request needs 12 points; the app's limit is 10 per second (MaxBackendEventsPerSecond), so it can never be admitted.",
      },
      {
        status: 400,
        body: "This request needs 11 points; the app's limit is 10 per second (MaxBackendEventsPerSecond), so it can never be admitted.",
      },
    ]);
    expect(harness.eventsOf(subscriber)).toEqual([]);
  });

  it('admits a batch of exactly the limit', async () => {
    const channel = fresh();
    const subscriber = await harness.subscriber('metered', [channel]);
    const batch = Array.from({ length: 10 }, (_, i) => ({ channel, name: `e${i}`, data: 'x' }));

    expect((await metered().triggerBatch(batch)).status).toBe(200);
    expect(harness.eventsOf(subscriber)).toHaveLength(10);
  });
});
