import { randomUUID } from 'node:crypto';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNLIMITED } from '../../../src/apps/app.js';
import {
  type Admission,
  admitConnection,
  CONNECTION_COUNTER_SETTINGS,
  type ConnectionCounterSettings,
  releaseConnection,
} from '../../../src/state/connection-counter.js';
import { stateKeys } from '../../../src/state/keys.js';
import type { StateTable } from '../../../src/state/table.js';
import {
  type CallCounter,
  countCalls,
  createStateTable,
  type TestTable,
  testClient,
} from '../../support/dynamodb.js';

const HOUR = 60 * 60 * 1000;
const API_GATEWAY_MAX_CONNECTION_MS = 2 * HOUR;

let table: TestTable;
/** One client per container: Lambda containers share nothing but the table. */
let containers: StateTable[];
let calls: CallCounter;

beforeAll(async () => {
  const clients = [testClient(), testClient(), testClient()];
  calls = countCalls(clients[0]!);
  table = await createStateTable(clients[0]!, 'counter');
  containers = clients.map((client) => ({ client, tableName: table.name }));
});

afterAll(async () => {
  await table.drop();
  for (const { client } of containers) client.destroy();
});

const newApp = () => `app-${randomUUID()}`;
/** The start of a bucket, far from the epoch like a real clock. */
const bucketStart = (settings: ConnectionCounterSettings = CONNECTION_COUNTER_SETTINGS) =>
  Math.ceil(Date.UTC(2026, 10, 26) / settings.bucketMs) * settings.bucketMs;

async function admitMany(appId: string, limit: number, count: number, at: number): Promise<Admission[]> {
  return Promise.all(
    Array.from({ length: count }, (_, index) =>
      admitConnection(containers[index % containers.length]!, appId, limit, at),
    ),
  );
}

async function total(appId: string): Promise<number> {
  const { Item } = await containers[0]!.client.send(
    new GetItemCommand({
      TableName: table.name,
      Key: stateKeys.connectionCounter(appId),
      ConsistentRead: true,
    }),
  );
  return Number(Item?.total?.N);
}

describe('the MaxConnections counter', () => {
  it('admits exactly the quota of simultaneous connects from several containers', async () => {
    const appId = newApp();
    const admissions = await admitMany(appId, 5, 16, bucketStart() + 1_000);

    expect(admissions.filter((admission) => admission.admitted)).toHaveLength(5);
    expect(await total(appId)).toBe(5);
  });

  it('admits exactly the quota when the connects race a bucket change that clears old counts', async () => {
    const appId = newApp();
    const start = bucketStart();
    expect((await admitMany(appId, 4, 4, start)).every((admission) => admission.admitted)).toBe(true);

    // None released (lost $disconnects); long after, a burst from several containers meets stale slots.
    const later = start + 5 * CONNECTION_COUNTER_SETTINGS.slots * CONNECTION_COUNTER_SETTINGS.bucketMs;
    const admissions = await admitMany(appId, 4, 12, later);

    expect(admissions.filter((admission) => admission.admitted)).toHaveLength(4);
    expect(await total(appId)).toBe(4);
  });

  it('admits again once a connection is released', async () => {
    const appId = newApp();
    const at = bucketStart() + 10;
    const [first] = await admitMany(appId, 1, 1, at);
    expect(await admitConnection(containers[1]!, appId, 1, at)).toEqual({ admitted: false });

    await releaseConnection(containers[2]!, appId, first!.admitted ? first!.bucket : undefined);

    expect(await admitConnection(containers[1]!, appId, 1, at)).toMatchObject({ admitted: true });
  });

  it('never blocks a quota for good: counts whose $disconnect was lost drop out once their connections cannot be alive', async () => {
    const appId = newApp();
    const opened = bucketStart() + 7 * 60_000;
    await admitMany(appId, 2, 2, opened);

    // Still counted for as long as API Gateway may keep those connections open...
    expect(await admitConnection(containers[0]!, appId, 2, opened + API_GATEWAY_MAX_CONNECTION_MS)).toEqual({
      admitted: false,
    });
    // ...and admitted again within the horizon: slots × bucket length (3 h) after they opened.
    const { slots, bucketMs } = CONNECTION_COUNTER_SETTINGS;
    expect(await admitConnection(containers[1]!, appId, 2, opened + slots * bucketMs)).toMatchObject({
      admitted: true,
    });
  });

  it('counts every connection for longer than API Gateway lets one live', () => {
    const { slots, bucketMs } = CONNECTION_COUNTER_SETTINGS;
    expect((slots - 1) * bucketMs).toBeGreaterThan(API_GATEWAY_MAX_CONNECTION_MS);
  });

  it('ignores a release whose bucket has left the window: it cannot push another bucket negative', async () => {
    const appId = newApp();
    const start = bucketStart();
    const [old] = await admitMany(appId, 3, 1, start);
    const later = start + CONNECTION_COUNTER_SETTINGS.slots * CONNECTION_COUNTER_SETTINGS.bucketMs;
    await admitMany(appId, 3, 1, later);

    await releaseConnection(containers[0]!, appId, old!.admitted ? old!.bucket : undefined);

    expect(await total(appId)).toBe(1);
  });

  it('writes nothing for an unlimited app and refuses without writing when the limit is 0', async () => {
    calls.reset();
    await expect(admitConnection(containers[0]!, newApp(), UNLIMITED, Date.now())).resolves.toEqual({
      admitted: true,
      bucket: undefined,
    });
    await expect(admitConnection(containers[0]!, newApp(), 0, Date.now())).resolves.toEqual({
      admitted: false,
    });
    expect(calls.total()).toBe(0);
  });

  it('costs one conditional write per admission within a bucket', async () => {
    const appId = newApp();
    const at = bucketStart() + 5;
    await admitConnection(containers[0]!, appId, 10, at);
    calls.reset();

    await admitConnection(containers[0]!, appId, 10, at + 1);

    expect(Object.fromEntries(calls.calls)).toEqual({ UpdateItemCommand: 1 });
  });

  it('keeps both promises for any history of connects, releases and lost $disconnects (model check)', async () => {
    // Short buckets so a history crosses several; the promises do not depend on the length.
    const settings: ConnectionCounterSettings = { bucketMs: 1_000, slots: 4 };
    const aliveMs = (settings.slots - 1) * settings.bucketMs;
    const horizonMs = settings.slots * settings.bucketMs;
    const step = fc.oneof(
      fc.record({ kind: fc.constant('connect' as const), advanceMs: fc.integer({ min: 0, max: 1_500 }) }),
      fc.record({ kind: fc.constant('disconnect' as const), pick: fc.nat() }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.array(step, { minLength: 1, maxLength: 14 }),
        async (limit, steps) => {
          const appId = newApp();
          let now = bucketStart(settings);
          const open: { openedAt: number; bucket: number | undefined }[] = [];
          for (const [index, action] of steps.entries()) {
            const container = containers[index % containers.length]!;
            if (action.kind === 'disconnect') {
              const [closing] = open.splice(action.pick % Math.max(open.length, 1), 1);
              if (closing) await releaseConnection(container, appId, closing.bucket, settings);
              continue;
            }
            now += action.advanceMs;
            const recent = (windowMs: number) =>
              open.filter((connection) => now - connection.openedAt < windowMs).length;
            const admission = await admitConnection(container, appId, limit, now, settings);
            if (admission.admitted) {
              // Safety: with it, no more than the limit of connections that may still be alive.
              expect(recent(aliveMs) + 1).toBeLessThanOrEqual(limit);
              open.push({ openedAt: now, bucket: admission.bucket });
            } else {
              // Recovery: a refusal is backed by unreleased connections opened within the horizon.
              expect(recent(horizonMs)).toBeGreaterThanOrEqual(limit);
            }
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});
