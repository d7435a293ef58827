import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpsRate, UNLIMITED_OPS } from '../../../src/state/connection-ops.js';
import {
  addChannel,
  type ConnectionRecord,
  deleteConnection,
  getConnection,
  putConnection,
  removeChannel,
  restoreConnection,
  setUser,
} from '../../../src/state/connections.js';
import type { StateTable } from '../../../src/state/table.js';
import { createStateTable, type TestTable, testClient } from '../../support/dynamodb.js';
import { type HeldCalls, holdCalls } from '../../support/held-calls.js';

const NOW = Date.UTC(2026, 11, 7, 12);
const HOUR = 60 * 60 * 1000;
const CAP_2 = { maxChannels: 2, ops: UNLIMITED_OPS };
/** Three at once, then one every 100 ms. */
const RATE: OpsRate = { perSecond: 10, burst: 3 };
const RATED = { maxChannels: 100, ops: RATE };

let table: TestTable;
/** Two Lambda containers of one connection: the subscribing one's calls can be held while the other runs. */
let subscribing: StateTable;
let other: StateTable;
let held: HeldCalls;

beforeAll(async () => {
  const clients = [testClient(), testClient()] as const;
  held = holdCalls(clients[0]);
  table = await createStateTable(clients[1], 'connections');
  subscribing = { client: clients[0], tableName: table.name };
  other = { client: clients[1], tableName: table.name };
});

afterAll(async () => {
  await table.drop();
  subscribing.client.destroy();
  other.client.destroy();
});

const connection = (channels: string[], overrides: Partial<ConnectionRecord> = {}): ConnectionRecord => ({
  connectionId: `conn-${randomUUID()}`,
  appId: 'app-1',
  connectedAtMs: NOW,
  bucket: 3,
  channels,
  user: undefined,
  webhooks: '',
  ...overrides,
});

describe('addChannel at the channel cap', () => {
  it('refuses a connection that holds the cap, naming the cap', async () => {
    const full = connection(['a', 'b']);
    await putConnection(other, full);

    expect(await addChannel(other, full.connectionId, 'c', { kind: 'none' }, NOW, CAP_2)).toMatchObject({
      kind: 'too-many-channels',
    });
  });

  it('takes the place another subscribe gave back between its write and its read, rather than naming an unmet requirement', async () => {
    const full = connection(['a', 'b']);
    await putConnection(other, full);

    // The write is refused (the set is full); before the read that says why, another subscribe of the same
    // connection is taken back.
    const hold = held.arm(2);
    const adding = addChannel(subscribing, full.connectionId, 'c', { kind: 'none' }, NOW, CAP_2);
    expect(await hold.reached(adding)).toBe(true);
    await removeChannel(other, full.connectionId, 'b');
    held.release();

    expect(await adding).toMatchObject({ kind: 'added' });
    expect([...((await getConnection(other, full.connectionId))?.channels ?? [])].sort()).toEqual(['a', 'c']);
  });

  it('still names an unmet requirement when that is what failed', async () => {
    const anonymous = connection(['a']);
    await putConnection(other, anonymous);

    expect(
      await addChannel(other, anonymous.connectionId, 'c', { kind: 'user', userId: 'ann' }, NOW, CAP_2),
    ).toMatchObject({ kind: 'requirement-unmet' });
  });
});

describe('the subscribe/signin rate of a connection', () => {
  const subscribeAt = (connectionId: string, channel: string, nowMs: number) =>
    addChannel(other, connectionId, channel, { kind: 'none' }, nowMs, RATED).then((outcome) => outcome.kind);

  it('allows the burst at once, then one per interval', async () => {
    const fresh = connection([]);
    await putConnection(other, fresh);

    const burst = [];
    for (const channel of ['a', 'b', 'c', 'd'])
      burst.push(await subscribeAt(fresh.connectionId, channel, NOW));
    expect(burst).toEqual(['added', 'added', 'added', 'too-fast']);
    expect(await subscribeAt(fresh.connectionId, 'd', NOW + 99)).toBe('too-fast');
    expect(await subscribeAt(fresh.connectionId, 'd', NOW + 100)).toBe('added');
    expect((await getConnection(other, fresh.connectionId))?.channels).toHaveLength(4);
  });

  it('gives a connection quiet for an hour its burst again, not an hour of credit', async () => {
    const quiet = connection([]);
    await putConnection(other, quiet);
    for (const channel of ['a', 'b', 'c']) await subscribeAt(quiet.connectionId, channel, NOW);

    const later = NOW + HOUR;
    const outcomes = [];
    for (const channel of ['d', 'e', 'f', 'g'])
      outcomes.push(await subscribeAt(quiet.connectionId, channel, later));

    expect(outcomes).toEqual(['added', 'added', 'added', 'too-fast']);
  });

  it('takes subscribes sent at once by a connection quiet for an hour: one resets the credit, the others use it', async () => {
    const quiet = connection([]);
    await putConnection(other, quiet);
    await subscribeAt(quiet.connectionId, 'a', NOW);

    const later = NOW + HOUR;
    const outcomes = await Promise.all(
      ['b', 'c', 'd'].map((channel) => subscribeAt(quiet.connectionId, channel, later)),
    );

    expect(outcomes).toEqual(['added', 'added', 'added']);
    expect(await subscribeAt(quiet.connectionId, 'e', later)).toBe('too-fast');
  });

  it('lets unsubscribes use the credit without ever refusing one', async () => {
    const churning = connection([]);
    await putConnection(other, churning);
    for (const channel of ['a', 'b', 'c']) await subscribeAt(churning.connectionId, channel, NOW);

    for (const channel of ['a', 'b', 'c']) {
      expect(
        await removeChannel(other, churning.connectionId, channel, { rate: RATE, nowMs: NOW }),
      ).toBeDefined();
    }

    // Three unsubscribes used three intervals more: the next subscribe waits for 300 ms of them.
    expect(await subscribeAt(churning.connectionId, 'd', NOW + 399)).toBe('too-fast');
    expect(await subscribeAt(churning.connectionId, 'd', NOW + 400)).toBe('added');
  });

  it('counts signins with subscribes', async () => {
    const signing = connection([]);
    await putConnection(other, signing);
    await subscribeAt(signing.connectionId, 'a', NOW);
    await subscribeAt(signing.connectionId, 'b', NOW);
    const ann = { userId: 'ann', userInfoJson: undefined };

    expect(await setUser(other, signing.connectionId, ann, RATE, NOW)).toEqual({
      kind: 'set',
      previousUserId: undefined,
    });
    expect(await setUser(other, signing.connectionId, ann, RATE, NOW)).toEqual({ kind: 'too-fast' });
    expect(await subscribeAt(signing.connectionId, 'c', NOW)).toBe('too-fast');
  });

  it('charges nothing for what it refuses for another reason, nor for a take-back', async () => {
    const connectionWithCredit = connection([]);
    await putConnection(other, connectionWithCredit);
    await subscribeAt(connectionWithCredit.connectionId, 'a', NOW);
    expect(await subscribeAt(connectionWithCredit.connectionId, 'a', NOW)).toBe('already-subscribed');
    await removeChannel(other, connectionWithCredit.connectionId, 'a');

    expect(await subscribeAt(connectionWithCredit.connectionId, 'b', NOW)).toBe('added');
    expect(await subscribeAt(connectionWithCredit.connectionId, 'c', NOW)).toBe('added');
    expect(await subscribeAt(connectionWithCredit.connectionId, 'd', NOW)).toBe('too-fast');
  });
});

describe('restoreConnection', () => {
  it('writes a deleted record back whole: channels, user and counter bucket', async () => {
    const record = connection(['a', 'presence-b'], {
      user: { userId: 'ann', userInfoJson: '{"name":"Ann"}' },
      webhooks: 'member_removed',
    });
    await putConnection(other, record);
    const deleted = await deleteConnection(other, record.connectionId);

    await restoreConnection(other, deleted!);

    expect(await getConnection(other, record.connectionId)).toEqual(record);
  });
});
