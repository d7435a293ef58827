import {
  type AttributeValue,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { UNLIMITED } from '../apps/app.js';
import { stateKeys } from './keys.js';
import { type StateTable, unlessConditionFails } from './table.js';

/**
 * How the MaxConnections counter buckets time. A connection counts in the bucket it opened in; the live
 * count is the sum of the last `slots` buckets, each kept in its own slot of one item (slot = bucket mod
 * `slots`), with their `total` beside them so one conditional write can check and count.
 *
 * - Safety: `(slots - 1) * bucketMs` must exceed API Gateway's 2-hour connection limit, so a connection is
 *   counted for as long as it can live: the quota is never exceeded.
 * - Recovery: a count a lost `$disconnect` never released drops out when its bucket leaves the window, at
 *   most `slots * bucketMs` after the connection opened: a quota is never blocked for good.
 */
export interface ConnectionCounterSettings {
  readonly bucketMs: number;
  readonly slots: number;
}

/** 4 buckets of 45 min: counted for 2 h 15 min (2 h plus a margin for clocks), released within 3 h. */
export const CONNECTION_COUNTER_SETTINGS: ConnectionCounterSettings = Object.freeze({
  bucketMs: 45 * 60 * 1000,
  slots: 4,
});

/** Where an admitted connection was counted (`undefined`: the app is unlimited and nothing was counted). */
export type Admission =
  | { readonly admitted: true; readonly bucket: number | undefined }
  | { readonly admitted: false };

/** Conditional writes lost to other containers (each loss means one of them made progress) before giving up. */
const MAX_ATTEMPTS = 5;

interface CounterState {
  readonly total: number;
  /** The bucket each slot holds. */
  readonly buckets: readonly number[];
}

const TOTAL = 'total';
const bucketName = (slot: number) => `b${slot}`;
const countName = (slot: number) => `c${slot}`;

/**
 * Counts a new connection of the app at `nowMs` if fewer than `limit` are live, with one conditional
 * `UpdateItem` (more at a bucket change or on the first connection). `Infinity` writes nothing; 0 refuses.
 * Throws when DynamoDB fails, or when other containers keep winning the race (retryable either way).
 */
export async function admitConnection(
  table: StateTable,
  appId: string,
  limit: number,
  nowMs: number,
  settings: ConnectionCounterSettings = CONNECTION_COUNTER_SETTINGS,
): Promise<Admission> {
  if (limit === UNLIMITED) return { admitted: true, bucket: undefined };
  const allowed = Math.floor(limit);
  if (!(allowed >= 1)) return { admitted: false };
  let bucket = Math.floor(nowMs / settings.bucketMs);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (await tryCount(table, appId, allowed, bucket, settings)) return { admitted: true, bucket };
    const state = await readCounter(table, appId, settings);
    if (state === undefined) {
      await createCounter(table, appId, bucket, settings);
      continue;
    }
    // A container whose clock runs behind another's adopts the newer bucket instead of waiting.
    bucket = Math.max(bucket, ...state.buckets);
    const stale = staleSlots(state, bucket, settings);
    // Full. Otherwise the write lost a race (the item was being created, or released into): try again.
    if (stale.length === 0 && state.total >= allowed) return { admitted: false };
    for (const slot of stale) await clearSlot(table, appId, slot, state.buckets[slot]!, bucket, settings);
  }
  throw new Error(`Connection counter of app ${appId}: still contended after ${MAX_ATTEMPTS} attempts`);
}

/**
 * Releases a connection counted in `bucket`. Nothing happens when its bucket has left the window: its
 * count was dropped then.
 */
export async function releaseConnection(
  table: StateTable,
  appId: string,
  bucket: number | undefined,
  settings: ConnectionCounterSettings = CONNECTION_COUNTER_SETTINGS,
): Promise<void> {
  if (bucket === undefined) return;
  const slot = bucket % settings.slots;
  await unlessConditionFails(
    table.client.send(
      new UpdateItemCommand({
        TableName: table.tableName,
        Key: stateKeys.connectionCounter(appId),
        UpdateExpression: 'SET #count = #count - :one, #total = #total - :one',
        ConditionExpression: '#bucket = :bucket AND #count > :zero',
        ExpressionAttributeNames: { '#count': countName(slot), '#total': TOTAL, '#bucket': bucketName(slot) },
        ExpressionAttributeValues: { ':one': number(1), ':zero': number(0), ':bucket': number(bucket) },
      }),
    ),
  );
}

/** Counts one connection in `bucket` if every slot is current and the total is under the limit. */
async function tryCount(
  table: StateTable,
  appId: string,
  limit: number,
  bucket: number,
  settings: ConnectionCounterSettings,
): Promise<boolean> {
  const slot = bucket % settings.slots;
  const names: Record<string, string> = {
    '#total': TOTAL,
    '#count': countName(slot),
    '#expiresAt': 'expiresAt',
  };
  const conditions = ['#total < :limit'];
  for (let other = 0; other < settings.slots; other++) {
    names[`#b${other}`] = bucketName(other);
    conditions.push(other === slot ? `#b${other} = :bucket` : `#b${other} >= :oldest`);
  }
  const counted = await unlessConditionFails(
    table.client.send(
      new UpdateItemCommand({
        TableName: table.tableName,
        Key: stateKeys.connectionCounter(appId),
        UpdateExpression: 'SET #count = #count + :one, #total = #total + :one, #expiresAt = :expiresAt',
        ConditionExpression: conditions.join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: {
          ':one': number(1),
          ':limit': number(limit),
          ':bucket': number(bucket),
          ':oldest': number(oldestCounted(bucket, settings)),
          ':expiresAt': number(counterExpiresAt(bucket, settings)),
        },
      }),
    ),
  );
  return counted !== undefined;
}

async function readCounter(
  table: StateTable,
  appId: string,
  settings: ConnectionCounterSettings,
): Promise<CounterState | undefined> {
  const { Item } = await table.client.send(
    new GetItemCommand({
      TableName: table.tableName,
      Key: stateKeys.connectionCounter(appId),
      ConsistentRead: true,
    }),
  );
  if (Item === undefined) return undefined;
  return {
    total: readNumber(Item, TOTAL),
    buckets: Array.from({ length: settings.slots }, (_, slot) => readNumber(Item, bucketName(slot))),
  };
}

/** The first connection of the app (or the first since the item expired): every slot empty and current. */
async function createCounter(
  table: StateTable,
  appId: string,
  bucket: number,
  settings: ConnectionCounterSettings,
): Promise<void> {
  const item: Record<string, AttributeValue> = {
    ...stateKeys.connectionCounter(appId),
    [TOTAL]: number(0),
    expiresAt: number(counterExpiresAt(bucket, settings)),
  };
  for (let slot = 0; slot < settings.slots; slot++) {
    item[bucketName(slot)] = number(latestBucketOfSlot(slot, bucket, settings));
    item[countName(slot)] = number(0);
  }
  await unlessConditionFails(
    table.client.send(
      new PutItemCommand({
        TableName: table.tableName,
        Item: item,
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    ),
  );
}

/**
 * Empties a slot whose bucket left the window and gives it its current bucket, taking its count off the
 * total in the same atomic write. Lost to another container doing the same: fine.
 */
async function clearSlot(
  table: StateTable,
  appId: string,
  slot: number,
  staleBucket: number,
  bucket: number,
  settings: ConnectionCounterSettings,
): Promise<void> {
  await unlessConditionFails(
    table.client.send(
      new UpdateItemCommand({
        TableName: table.tableName,
        Key: stateKeys.connectionCounter(appId),
        UpdateExpression: 'SET #total = #total - #count, #count = :zero, #bucket = :bucket',
        ConditionExpression: '#bucket = :stale',
        ExpressionAttributeNames: { '#total': TOTAL, '#count': countName(slot), '#bucket': bucketName(slot) },
        ExpressionAttributeValues: {
          ':zero': number(0),
          ':bucket': number(latestBucketOfSlot(slot, bucket, settings)),
          ':stale': number(staleBucket),
        },
      }),
    ),
  );
}

/** Slots that must be cleared before `bucket` can be counted in: the current one unless it holds `bucket`, and any too old. */
function staleSlots(state: CounterState, bucket: number, settings: ConnectionCounterSettings): number[] {
  const current = bucket % settings.slots;
  const oldest = oldestCounted(bucket, settings);
  return state.buckets.flatMap((held, slot) =>
    (slot === current ? held !== bucket : held < oldest) ? [slot] : [],
  );
}

const oldestCounted = (bucket: number, settings: ConnectionCounterSettings) => bucket - settings.slots + 1;

/** The newest bucket at or before `bucket` that lives in `slot`. */
function latestBucketOfSlot(slot: number, bucket: number, settings: ConnectionCounterSettings): number {
  return bucket - ((((bucket - slot) % settings.slots) + settings.slots) % settings.slots);
}

/** Once every slot's bucket has left the window the item means nothing: TTL may take it. */
function counterExpiresAt(bucket: number, settings: ConnectionCounterSettings): number {
  return Math.ceil(((bucket + settings.slots) * settings.bucketMs) / 1000);
}

function number(value: number): AttributeValue {
  return { N: String(value) };
}

function readNumber(item: Record<string, AttributeValue>, name: string): number {
  const value = Number(item[name]?.N);
  if (!Number.isFinite(value)) throw new TypeError(`Connection counter item has no numeric ${name}`);
  return value;
}
