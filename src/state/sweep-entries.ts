import {
  type AttributeValue,
  DeleteItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { stateKeys } from './keys.js';
import { expiresAt, type StateTable } from './table.js';

/**
 * How lost `$disconnect`s are found without a Scan. Each connection has a sweep entry in one of `slots`
 * partitions, chosen by the period it connected in; the sweeper, run once a period, asks API Gateway about the
 * connections of the period's slot. So each connection is asked about every `slots × periodMs`, and a
 * connection gone without its `$disconnect` is cleaned up within the ghost bound.
 */
export interface SweepPlan {
  /** How often the sweeper runs. */
  readonly periodMs: number;
  /** Slots in the rotation: the ghost bound less two periods (one for a connection too young to ask, one for the run). */
  readonly slots: number;
  /** Connections younger than this are not asked about: API Gateway may not have opened them yet. */
  readonly minAgeMs: number;
}

/** Partitions per slot, so that 500 connects a second spread their writes and the sweeper reads in parallel. */
export const SWEEP_SHARDS = 8;
const MIN_AGE_MS = 30_000;

/** The plan for a ghost bound and a period; undefined when the bound leaves no slot (it must be ≥ 3 periods). */
export function sweepPlan(ghostBoundMs: number, periodMs: number): SweepPlan | undefined {
  const slots = Math.floor(ghostBoundMs / periodMs) - 2;
  if (slots < 1) return undefined;
  return { periodMs, slots, minAgeMs: Math.min(MIN_AGE_MS, periodMs / 2) };
}

/** The slot the period containing `atMs` sweeps, and the one a connection made then is entered in. */
export function slotAt(plan: SweepPlan, atMs: number): number {
  return Math.floor(atMs / plan.periodMs) % plan.slots;
}

/** A cheap, stable spread of names over buckets (not a security hash). */
function hashOf(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (hash * 31 + text.charCodeAt(i)) >>> 0;
  return hash;
}

const shardOf = (connectionId: string): number => hashOf(connectionId) % SWEEP_SHARDS;

/** The slot whose turn recounts a channel's counts: an app's channels spread over the rotation. */
export const channelSlot = (plan: SweepPlan, channel: string): number => hashOf(channel) % plan.slots;

/** Enters a new connection in its slot. The entry outlives the connection's records, as they do. */
export async function putSweepEntry(
  table: StateTable,
  plan: SweepPlan,
  connectionId: string,
  appId: string,
  connectedAtMs: number,
): Promise<void> {
  await table.client.send(
    new PutItemCommand({
      TableName: table.tableName,
      Item: {
        pk: { S: stateKeys.sweepPartition(slotAt(plan, connectedAtMs), shardOf(connectionId)) },
        sk: { S: connectionId },
        appId: { S: appId },
        connectedAt: { N: String(connectedAtMs) },
        expiresAt: { N: String(expiresAt(connectedAtMs)) },
      },
    }),
  );
}

export interface SweepEntry {
  readonly connectionId: string;
  /** Absent on entries written before it was recorded. */
  readonly appId: string | undefined;
  readonly connectedAtMs: number;
  readonly slot: number;
  readonly shard: number;
}

/** The entries of one slot's shard not yet expired at `nowMs`, page after page. */
export async function* sweepEntries(
  table: StateTable,
  slot: number,
  shard: number,
  nowMs: number,
): AsyncGenerator<SweepEntry> {
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await table.client.send(
      new QueryCommand({
        TableName: table.tableName,
        KeyConditionExpression: 'pk = :pk',
        FilterExpression: 'expiresAt > :now',
        ExpressionAttributeValues: {
          ':pk': { S: stateKeys.sweepPartition(slot, shard) },
          ':now': { N: String(Math.floor(nowMs / 1000)) },
        },
        ProjectionExpression: 'sk, appId, connectedAt',
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) {
      yield {
        connectionId: item.sk!.S!,
        appId: item.appId?.S,
        connectedAtMs: Number(item.connectedAt?.N ?? 0),
        slot,
        shard,
      };
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
}

/** Removes the entry of a connection found gone (after its cleanup). */
export async function deleteSweepEntry(table: StateTable, entry: SweepEntry): Promise<void> {
  await table.client.send(
    new DeleteItemCommand({
      TableName: table.tableName,
      Key: { pk: { S: stateKeys.sweepPartition(entry.slot, entry.shard) }, sk: { S: entry.connectionId } },
    }),
  );
}
