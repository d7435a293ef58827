import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { stateKeys } from './keys.js';
import { expiresAt, getLiveItem, type StateTable, unlessConditionFails } from './table.js';

// A cache channel's last event: one item, replaced by each HTTP-API publish, read by each subscribe. When no
// live event is there, the same item records when a `cache_miss` webhook was last raised, so a burst of
// subscribes to an empty channel raises one. Expiry is checked on every read: DynamoDB's TTL deletes late.

/** How long a cache channel keeps its last event: Pusher's "up to 30 minutes". */
export const CACHE_TTL_SECONDS = 1_800;

/** At most one `cache_miss` webhook per channel in this many seconds while it stays empty. */
export const CACHE_MISS_WEBHOOK_WINDOW_SECONDS = 60;

/** A live cached event: its name, its data exactly as published, and the whole seconds it has left. */
export interface CachedEvent {
  readonly event: string;
  readonly data: string;
  readonly ttlSeconds: number;
}

const seconds = (ms: number) => Math.floor(ms / 1000);

/** Stores `event` as the channel's last event for `CACHE_TTL_SECONDS`, ending any empty period. */
export async function storeLastEvent(
  table: StateTable,
  appId: string,
  channel: string,
  event: { readonly name: string; readonly data: string },
  nowMs: number,
): Promise<void> {
  await table.client.send(
    new UpdateItemCommand({
      TableName: table.tableName,
      Key: stateKeys.channelCache(appId, channel),
      UpdateExpression: 'SET #event = :event, #data = :data, expiresAt = :expiresAt REMOVE missReportedAt',
      ExpressionAttributeNames: { '#event': 'event', '#data': 'data' },
      ExpressionAttributeValues: {
        ':event': { S: event.name },
        ':data': { S: event.data },
        ':expiresAt': { N: String(expiresAt(nowMs, CACHE_TTL_SECONDS)) },
      },
    }),
  );
}

/**
 * The channel's live last event, if it has one: a strongly consistent read, so a subscribe right after a
 * publish finds what it stored.
 */
export async function lastEvent(
  table: StateTable,
  appId: string,
  channel: string,
  nowMs: number,
): Promise<CachedEvent | undefined> {
  const item = await getLiveItem(table, stateKeys.channelCache(appId, channel), nowMs);
  const event = item?.event?.S;
  const data = item?.data?.S;
  const expiry = item?.expiresAt?.N;
  // A live miss marker holds no event; every stored event has its expiry.
  if (event === undefined || data === undefined || expiry === undefined) return undefined;
  return { event, data, ttlSeconds: Number(expiry) - seconds(nowMs) };
}

/**
 * Whether this miss is the one to raise `cache_miss` for: true for the first miss on a channel with neither a
 * live event nor a miss raised in the last `CACHE_MISS_WEBHOOK_WINDOW_SECONDS` (one conditional write, so
 * concurrent subscribes in other containers raise it once between them).
 */
export async function claimCacheMissReport(
  table: StateTable,
  appId: string,
  channel: string,
  nowMs: number,
): Promise<boolean> {
  const claimed = await unlessConditionFails(
    table.client.send(
      new UpdateItemCommand({
        TableName: table.tableName,
        Key: stateKeys.channelCache(appId, channel),
        // An expired event goes with the marker, whose expiresAt replaces the event's.
        UpdateExpression: 'SET missReportedAt = :nowMs, expiresAt = :until REMOVE #event, #data',
        ConditionExpression: 'attribute_not_exists(expiresAt) OR expiresAt <= :now',
        ExpressionAttributeNames: { '#event': 'event', '#data': 'data' },
        ExpressionAttributeValues: {
          ':nowMs': { N: String(nowMs) },
          ':now': { N: String(seconds(nowMs)) },
          ':until': { N: String(expiresAt(nowMs, CACHE_MISS_WEBHOOK_WINDOW_SECONDS)) },
        },
      }),
    ),
  );
  return claimed !== undefined;
}
