import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import Pusher from 'pusher';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listChannels } from '../../../src/state/channels.js';
import { getConnection } from '../../../src/state/connections.js';
import { stateKeys } from '../../../src/state/keys.js';
import { RECOUNT_QUIET_MS } from '../../../src/state/recount.js';
import { userConnectionIds } from '../../../src/state/users.js';
import { appItem } from '../../fixtures/apps/items.js';
import { WsHarness } from '../../fixtures/gateway/ws-harness.js';
import { type AwsJsonProxy, DYNAMODB_FAULTS, startDynamoDbProxy } from '../../support/aws-json-proxy.js';
import { dynamodbEndpoint } from '../../support/dynamodb.js';

/** Short values, as the docs allow for tests: a 2 s period and a 10 s bound make 3 slots, 1 s minimum age. */
const PERIOD_MS = 2_000;
const SLOTS = 3;
const MIN_AGE_MS = 1_000;

let gateway: WsHarness;
let proxy: AwsJsonProxy;

beforeAll(async () => {
  proxy = await startDynamoDbProxy(dynamodbEndpoint());
  gateway = await WsHarness.start(
    'sweeper',
    [appItem('app-1'), appItem('app-two', { MaxConnections: { N: '2' } })],
    {
      dynamodbEndpoint: proxy.endpoint,
      env: {
        CONNECTION_SWEEP_PERIOD_SECONDS: String(PERIOD_MS / 1_000),
        GHOST_CONNECTION_BOUND_SECONDS: '10',
      },
    },
  );
});

afterEach(() => proxy.setFault(undefined));

afterAll(async () => {
  await gateway?.close();
  await proxy?.close();
});

/** Every slot's turn once, from now: whichever slot a connection was entered in is swept. */
async function sweepEverySlot(): Promise<void> {
  const now = Date.now();
  for (let slot = 0; slot < SLOTS; slot++) await gateway.sweep(now + slot * PERIOD_MS);
}

const oldEnoughToAsk = () => new Promise((resolve) => setTimeout(resolve, MIN_AGE_MS + 100));

function joinPresence(appId: string, channel: string, userId: string) {
  return async () => {
    const connection = await gateway.connect(`${appId}-key`);
    const backend = new Pusher({ appId, key: `${appId}-key`, secret: `${appId}-secret`, host: '127.0.0.1' });
    const authorization = backend.authorizeChannel(connection.socketId, channel, { user_id: userId });
    await gateway.exchange(connection.connectionId, {
      event: 'pusher:subscribe',
      data: { ...authorization, channel },
    });
    return connection;
  };
}

describe('the connection sweeper', () => {
  it('cleans up a connection whose $disconnect was lost: member_removed, counts, user entry, record', async () => {
    const channel = 'presence-sweep';
    const stays = await joinPresence('app-1', channel, 'stays')();
    const ghost = await joinPresence('app-1', channel, 'ghost')();
    await gateway.exchange(ghost.connectionId, {
      event: 'pusher:subscribe',
      data: { channel: 'sweep-public' },
    });
    const signedIn = new Pusher({
      appId: 'app-1',
      key: 'app-1-key',
      secret: 'app-1-secret',
      host: '127.0.0.1',
    });
    const user = signedIn.authenticateUser(ghost.socketId, { id: 'ghost' });
    await gateway.send(ghost.connectionId, { event: 'pusher:signin', data: user });
    expect(await userConnectionIds(gateway.state, 'app-1', 'ghost', Date.now())).toEqual([
      ghost.connectionId,
    ]);
    const before = gateway.connectionsApi.framesOf(stays.connectionId).length;

    gateway.vanish(ghost.connectionId);
    await oldEnoughToAsk();
    await sweepEverySlot();

    const told = gateway.connectionsApi.framesOf(stays.connectionId).slice(before);
    expect(told).toEqual([
      { event: 'pusher_internal:member_removed', channel, data: JSON.stringify({ user_id: 'ghost' }) },
    ]);
    expect(await getConnection(gateway.state, ghost.connectionId)).toBeUndefined();
    expect(await listChannels(gateway.state, 'app-1', 'presence-sweep', Date.now())).toEqual([
      { channel, subscriptionCount: 1, userCount: 1 },
    ]);
    expect(await listChannels(gateway.state, 'app-1', 'sweep-public', Date.now())).toEqual([]);
    expect(await userConnectionIds(gateway.state, 'app-1', 'ghost', Date.now())).toEqual([]);
  });

  it('puts back a connection whose cleanup failed halfway, so that the next turn finishes it', async () => {
    const channel = 'presence-sweep-retry';
    const stays = await joinPresence('app-1', channel, 'stays-2')();
    const ghost = await joinPresence('app-1', channel, 'ghost-2')();
    const before = gateway.connectionsApi.framesOf(stays.connectionId).length;
    gateway.vanish(ghost.connectionId);
    await oldEnoughToAsk();
    // Leaving the channel fails (its subscriber item cannot be deleted, retries included).
    proxy.setFault(DYNAMODB_FAULTS.internalError, {
      operation: 'DeleteItem',
      bodyIncludes: '"sub#',
      after: 0,
      times: 100,
    });

    await sweepEverySlot();
    proxy.setFault(undefined);
    expect(await getConnection(gateway.state, ghost.connectionId)).toMatchObject({ channels: [channel] });
    await sweepEverySlot();

    expect(gateway.connectionsApi.framesOf(stays.connectionId).slice(before)).toEqual([
      { event: 'pusher_internal:member_removed', channel, data: JSON.stringify({ user_id: 'ghost-2' }) },
    ]);
    expect(await getConnection(gateway.state, ghost.connectionId)).toBeUndefined();
    expect(await listChannels(gateway.state, 'app-1', channel, Date.now())).toEqual([
      { channel, subscriptionCount: 1, userCount: 1 },
    ]);
  });

  it("gives a ghost's MaxConnections place back", async () => {
    const [first, second] = [await gateway.connect('app-two-key'), await gateway.connect('app-two-key')];
    await expect(gateway.connect('app-two-key')).rejects.toThrow(/refused/);
    gateway.vanish(first.connectionId);
    gateway.vanish(second.connectionId);

    await oldEnoughToAsk();
    await sweepEverySlot();

    await expect(gateway.connect('app-two-key')).resolves.toMatchObject({ socketId: expect.any(String) });
  });

  it('leaves live connections alone, and does not ask about one too young', async () => {
    const live = await gateway.connect('app-1-key');
    const young = await gateway.connect('app-1-key');
    await gateway.exchange(live.connectionId, { event: 'pusher:subscribe', data: { channel: 'sweep-live' } });
    gateway.vanish(young.connectionId);
    gateway.connectionsApi.probes.length = 0;

    await sweepEverySlot();

    expect(gateway.connectionsApi.probes).not.toContain(young.connectionId);
    expect(await getConnection(gateway.state, young.connectionId)).toBeDefined();
    await oldEnoughToAsk();
    await sweepEverySlot();
    expect(gateway.connectionsApi.probes).toContain(live.connectionId);
    expect(await getConnection(gateway.state, live.connectionId)).toMatchObject({ channels: ['sweep-live'] });
    expect(await listChannels(gateway.state, 'app-1', 'sweep-live', Date.now())).toEqual([
      { channel: 'sweep-live', subscriptionCount: 1, userCount: undefined },
    ]);
    expect(await getConnection(gateway.state, young.connectionId)).toBeUndefined();
  });

  it('asks about a connection that left normally once, then forgets it', async () => {
    const left = await gateway.connect('app-1-key');
    await gateway.disconnect(left.connectionId);
    await oldEnoughToAsk();

    await sweepEverySlot();
    const asked = gateway.connectionsApi.probes.filter((id) => id === left.connectionId).length;
    await sweepEverySlot();

    expect(asked).toBe(1);
    expect(gateway.connectionsApi.probes.filter((id) => id === left.connectionId)).toHaveLength(1);
  });

  it('repairs channel counts leaked in both directions, once they have been quiet, and leaves a busy entry alone', async () => {
    const member = await joinPresence('app-1', 'presence-leaky', 'member')();
    await gateway.exchange(member.connectionId, {
      event: 'pusher:subscribe',
      data: { channel: 'leaky-high' },
    });
    await gateway.exchange(member.connectionId, {
      event: 'pusher:subscribe',
      data: { channel: 'leaky-busy' },
    });
    const longAgo = Date.now() - 2 * RECOUNT_QUIET_MS;
    // Counts too high, too low, and a channel counted without any subscriber, as lost or doubled writes leave them.
    await setCounts('presence-leaky', { subscriptionCount: 4, userCount: 0, countedAt: longAgo });
    await setCounts('leaky-high', { subscriptionCount: 7, countedAt: longAgo });
    await setCounts('leaky-empty', { subscriptionCount: 2, countedAt: longAgo });
    await setCounts('leaky-busy', { subscriptionCount: 5, countedAt: Date.now() });

    await sweepEverySlot();
    // A cold sweeper learns the apps over one rotation; the second rotation has every channel's turn.
    await sweepEverySlot();

    const counts = async (channel: string) => listChannels(gateway.state, 'app-1', channel, Date.now());
    expect(await counts('presence-leaky')).toEqual([
      { channel: 'presence-leaky', subscriptionCount: 1, userCount: 1 },
    ]);
    expect(await counts('leaky-high')).toEqual([
      { channel: 'leaky-high', subscriptionCount: 1, userCount: undefined },
    ]);
    expect(await counts('leaky-empty')).toEqual([]);
    expect(await counts('leaky-busy')).toEqual([
      { channel: 'leaky-busy', subscriptionCount: 5, userCount: undefined },
    ]);
  });
});

/** Overwrites a channel index entry's counts, as a leak would have left them. */
async function setCounts(
  channel: string,
  counts: { subscriptionCount: number; userCount?: number; countedAt: number },
): Promise<void> {
  await gateway.state.client.send(
    new PutItemCommand({
      TableName: gateway.state.tableName,
      Item: {
        ...stateKeys.channelIndexEntry('app-1', channel),
        subscriptionCount: { N: String(counts.subscriptionCount) },
        ...(counts.userCount !== undefined && { userCount: { N: String(counts.userCount) } }),
        countedAt: { N: String(counts.countedAt) },
        expiresAt: { N: String(Math.floor(Date.now() / 1000) + 3_600) },
      },
    }),
  );
}
