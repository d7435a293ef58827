import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import { createAppStoreClient } from '../apps/client.js';
import type { AppStoreConfig } from '../config/config.js';
import { STATE_TTL_ATTRIBUTE } from './table-schema.js';

/** The state table (`STATE_TABLE`) and the client that reaches it. */
export interface StateTable {
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

/**
 * A client for the state table: in the Lambda's own region (the apps table may live elsewhere), at the apps
 * table's custom endpoint when one is set (the local DynamoDB holds both), with the same bounded timeouts.
 */
export function createStateTableClient(appStore: AppStoreConfig, region: string): DynamoDBClient {
  return createAppStoreClient({ ...appStore, region });
}

/**
 * How long connection state lives: longer than API Gateway's 2-hour connection limit, so a record outlives
 * its connection, and DynamoDB's TTL sweeper removes what a lost `$disconnect` left behind.
 */
export const CONNECTION_STATE_TTL_SECONDS = 3 * 60 * 60;

/** The `expiresAt` value (epoch seconds) for an item written at `nowMs` that may live `ttlSeconds`. */
export function expiresAt(nowMs: number, ttlSeconds: number = CONNECTION_STATE_TTL_SECONDS): number {
  return Math.floor(nowMs / 1000) + ttlSeconds;
}

/**
 * Runs a conditional write: its output, or undefined when its condition failed (an expected outcome of a
 * conditional write, not an outage). Any other failure is thrown.
 */
export async function unlessConditionFails<Output>(write: Promise<Output>): Promise<Output | undefined> {
  try {
    return await write;
  } catch (error) {
    if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return undefined;
    throw error;
  }
}

/**
 * The item at `key` unless it has expired at `nowMs` (DynamoDB's TTL deletes late): one strongly consistent
 * `GetItem`, so a write just made is seen. A `projection` must name `expiresAt` for the check to see it.
 */
export async function getLiveItem(
  table: StateTable,
  key: Record<string, AttributeValue>,
  nowMs: number,
  projection?: string,
): Promise<Record<string, AttributeValue> | undefined> {
  const { Item } = await table.client.send(
    new GetItemCommand({
      TableName: table.tableName,
      Key: key,
      ConsistentRead: true,
      ...(projection === undefined ? {} : { ProjectionExpression: projection }),
    }),
  );
  const expired = Number(Item?.[STATE_TTL_ATTRIBUTE]?.N ?? Infinity) <= Math.floor(nowMs / 1000);
  return Item === undefined || expired ? undefined : Item;
}

/**
 * Every item a Query matches that has not expired at `nowMs`, page after page, read strongly consistent.
 * DynamoDB deletes expired items only eventually (often days later), so what a lost `$disconnect` left
 * behind stops counting at its `expiresAt`, not when the sweeper comes.
 */
export async function* queryAll(
  table: StateTable,
  nowMs: number,
  input: LiveQuery,
): AsyncGenerator<Record<string, AttributeValue>> {
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await queryPage(table, nowMs, input, { startKey });
    yield* page.items;
    startKey = page.lastKey;
  } while (startKey !== undefined);
}

/** What a caller of `queryAll` or `queryPage` chooses of a Query. */
export type LiveQuery = Pick<
  QueryCommandInput,
  'KeyConditionExpression' | 'ExpressionAttributeValues' | 'ProjectionExpression'
>;

/**
 * One page of a strongly consistent Query, without expired items (see `queryAll`). `limit` counts the items
 * read, expired ones included; `lastKey` is undefined only after the last page.
 */
export async function queryPage(
  table: StateTable,
  nowMs: number,
  input: LiveQuery,
  page: { readonly limit?: number; readonly startKey?: Record<string, AttributeValue> },
): Promise<{
  readonly items: Record<string, AttributeValue>[];
  readonly lastKey?: Record<string, AttributeValue>;
}> {
  const { Items = [], LastEvaluatedKey } = await table.client.send(
    new QueryCommand({
      ...input,
      TableName: table.tableName,
      FilterExpression: 'attribute_not_exists(#expiresAt) OR #expiresAt > :now',
      ExpressionAttributeNames: { '#expiresAt': STATE_TTL_ATTRIBUTE },
      ExpressionAttributeValues: {
        ...input.ExpressionAttributeValues,
        ':now': { N: String(Math.floor(nowMs / 1000)) },
      },
      ConsistentRead: true,
      ...(page.limit === undefined ? {} : { Limit: page.limit }),
      ...(page.startKey === undefined ? {} : { ExclusiveStartKey: page.startKey }),
    }),
  );
  return { items: Items, ...(LastEvaluatedKey === undefined ? {} : { lastKey: LastEvaluatedKey }) };
}
