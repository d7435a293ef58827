import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addChannel,
  type ConnectionRecord,
  deleteConnection,
  getConnection,
  putConnection,
  removeChannel,
  restoreConnection,
} from '../../../src/state/connections.js';
import type { StateTable } from '../../../src/state/table.js';
import { createStateTable, type TestTable, testClient } from '../../support/dynamodb.js';
import { type HeldCalls, holdCalls } from '../../support/held-calls.js';

const NOW = Date.UTC(2026, 11, 7, 12);

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

    expect(await addChannel(other, full.connectionId, 'c', { kind: 'none' }, NOW, 2)).toMatchObject({
      kind: 'too-many-channels',
    });
  });

  it('takes the place another subscribe gave back between its write and its read, rather than naming an unmet requirement', async () => {
    const full = connection(['a', 'b']);
    await putConnection(other, full);

    // The write is refused (the set is full); before the read that says why, another subscribe of the same
    // connection is taken back.
    const hold = held.arm(2);
    const adding = addChannel(subscribing, full.connectionId, 'c', { kind: 'none' }, NOW, 2);
    expect(await hold.reached(adding)).toBe(true);
    await removeChannel(other, full.connectionId, 'b');
    held.release();

    expect(await adding).toMatchObject({ kind: 'added' });
    expect((await getConnection(other, full.connectionId))?.channels.sort()).toEqual(['a', 'c']);
  });

  it('still names an unmet requirement when that is what failed', async () => {
    const anonymous = connection(['a']);
    await putConnection(other, anonymous);

    expect(
      await addChannel(other, anonymous.connectionId, 'c', { kind: 'user', userId: 'ann' }, NOW, 2),
    ).toMatchObject({ kind: 'requirement-unmet' });
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
