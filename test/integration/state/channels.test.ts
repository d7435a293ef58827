import { randomUUID } from 'node:crypto';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countSubscription, joinPresence, leavePresence, listChannels } from '../../../src/state/channels.js';
import { UNLIMITED_OPS } from '../../../src/state/connection-ops.js';
import { addChannel, putConnection } from '../../../src/state/connections.js';
import { stateKeys } from '../../../src/state/keys.js';
import type { StateTable } from '../../../src/state/table.js';
import { createStateTable, type TestTable, testClient } from '../../support/dynamodb.js';
import { type HeldCalls, holdCalls } from '../../support/held-calls.js';

const HOUR = 60 * 60 * 1000;
const LIMITS = { maxChannels: 100, ops: UNLIMITED_OPS };
const NOW = Date.UTC(2026, 10, 26, 12);
/** An `expiresAt` DynamoDB's sweeper has not acted on yet: past, but the item is still there. */
const EXPIRED = String(Math.floor(NOW / 1000) - 60);

let table: TestTable;
/** Two Lambda containers: the leaving one's calls can be held while the other runs. */
let leaving: StateTable;
let joining: StateTable;
let held: HeldCalls;

beforeAll(async () => {
  const clients = [testClient(), testClient()] as const;
  held = holdCalls(clients[0]);
  table = await createStateTable(clients[1], 'channels');
  leaving = { client: clients[0], tableName: table.name };
  joining = { client: clients[1], tableName: table.name };
});

afterAll(async () => {
  await table.drop();
  leaving.client.destroy();
  joining.client.destroy();
});

const newApp = () => `app-${randomUUID()}`;

async function memberConnections(appId: string, channel: string, userId: string) {
  const { Item } = await joining.client.send(
    new GetItemCommand({
      TableName: table.name,
      Key: stateKeys.member(appId, channel, userId),
      ConsistentRead: true,
    }),
  );
  return Item === undefined ? undefined : (Item.connections?.SS ?? []).sort();
}

describe('items past their expiresAt that DynamoDB has not deleted yet', () => {
  it('a member left by a dead connection: the same user rejoining is a new member, and leaves as one', async () => {
    const appId = newApp();
    await joining.client.send(
      new PutItemCommand({
        TableName: table.name,
        Item: {
          ...stateKeys.member(appId, 'presence-a', 'ann'),
          connections: { SS: ['dead'] },
          expiresAt: { N: EXPIRED },
        },
      }),
    );

    const joined = await joinPresence(
      joining,
      appId,
      'presence-a',
      { userId: 'ann', userInfoJson: undefined },
      'c1',
      NOW,
    );

    expect(joined.firstConnection).toBe(true);
    expect(await memberConnections(appId, 'presence-a', 'ann')).toEqual(['c1']);
    expect(await leavePresence(joining, appId, 'presence-a', 'ann', 'c1')).toEqual({ lastConnection: true });
    expect(await memberConnections(appId, 'presence-a', 'ann')).toBeUndefined();
  });

  it('a channel index entry: its counts start afresh, so an expired full count refuses no one', async () => {
    const appId = newApp();
    await joining.client.send(
      new PutItemCommand({
        TableName: table.name,
        Item: {
          ...stateKeys.channelIndexEntry(appId, 'presence-b'),
          subscriptionCount: { N: '2' },
          userCount: { N: '2' },
          expiresAt: { N: EXPIRED },
        },
      }),
    );

    const counted = await countSubscription(
      joining,
      appId,
      'presence-b',
      { subscriptions: 1, users: 1, maxUsers: 2 },
      NOW,
    );

    expect(counted).toEqual({ subscriptionCount: 1 });
    expect(await listChannels(joining, appId, '', NOW)).toEqual([
      { channel: 'presence-b', subscriptionCount: 1, userCount: 1 },
    ]);
  });

  it('a live count: each change reports the count it left, so 0 → 1 and 1 → 0 are seen once each', async () => {
    const appId = newApp();
    const change = (subscriptions: 1 | -1) =>
      countSubscription(joining, appId, 'news', { subscriptions, users: 0, maxUsers: 0 }, NOW);

    expect(await change(1)).toEqual({ subscriptionCount: 1 });
    expect(await change(1)).toEqual({ subscriptionCount: 2 });
    expect(await change(-1)).toEqual({ subscriptionCount: 1 });
    expect(await change(-1)).toEqual({ subscriptionCount: 0 });
    expect(await listChannels(joining, appId, '', NOW)).toEqual([]);
  });

  it('a connection record: gains no channel', async () => {
    const connectionId = `conn-${randomUUID()}`;
    await putConnection(joining, {
      connectionId,
      appId: newApp(),
      connectedAtMs: NOW - 4 * HOUR,
      bucket: undefined,
      channels: [],
      user: undefined,
      webhooks: '',
    });

    expect(await addChannel(joining, connectionId, 'news', { kind: 'none' }, NOW, LIMITS)).toEqual({
      kind: 'no-connection',
    });
  });
});

describe('a user leaving on one connection while joining on another', () => {
  // The join runs before each of the leave's calls in turn (and after the leave when it made fewer).
  it.each([1, 2, 3, 4])(
    'join before call %i of the leave: first and last only when the member was really gone in between',
    async (callNumber) => {
      const appId = newApp();
      const ann = { userId: 'ann', userInfoJson: undefined };
      await joinPresence(joining, appId, 'presence-c', ann, 'tab-1', NOW);

      const hold = held.arm(callNumber);
      const leave = leavePresence(leaving, appId, 'presence-c', 'ann', 'tab-1');
      await hold.reached(leave);
      const presentBeforeJoin = (await memberConnections(appId, 'presence-c', 'ann')) !== undefined;
      const join = await joinPresence(joining, appId, 'presence-c', ann, 'tab-2', NOW);
      held.release();
      const { lastConnection } = await leave;

      // The join is the user's first connection exactly when no member item was there.
      expect(join.firstConnection).toBe(!presentBeforeJoin);
      // The leave took the user off only if the join found the user gone (else tab-2 keeps the user).
      expect(lastConnection).toBe(join.firstConnection);
      expect(await memberConnections(appId, 'presence-c', 'ann')).toEqual(['tab-2']);
    },
  );
});
