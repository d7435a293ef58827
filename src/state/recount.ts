import { DeleteItemCommand, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { channelType } from '../protocol/validation.js';
import { COUNTED_AT, readChannel } from './channels.js';
import { stateKeys } from './keys.js';
import { queryAll, type StateTable, unlessConditionFails } from './table.js';

/**
 * How long a channel's counts must have stayed unchanged before a recount may correct them: longer than any
 * subscribe or leave takes between its count and its item (a Lambda's timeout), so none is half done.
 */
export const RECOUNT_QUIET_MS = 60_000;

export interface ChannelCountsChange {
  readonly subscriptions: number;
  /** Presence channels only. */
  readonly users?: number;
}

/** A correction a recount made: what the index counted, and what the channel's items hold. */
export interface Recount {
  readonly channel: string;
  readonly from: ChannelCountsChange;
  readonly to: ChannelCountsChange;
}

/**
 * Sets a channel index entry's counts to what its subscriber and member items hold, too high or too low:
 * a count given back twice by an ambiguous write, or one a dead Lambda never gave back. Only when the entry
 * has been quiet for `RECOUNT_QUIET_MS`, and only if it did not change meanwhile (a conditional write); an
 * entry that counts no live subscriber is removed. Returns the correction, or undefined when none was due.
 */
export async function recountChannel(
  table: StateTable,
  appId: string,
  channel: string,
  nowMs: number,
): Promise<Recount | undefined> {
  const key = stateKeys.channelIndexEntry(appId, channel);
  const { Item } = await table.client.send(
    new GetItemCommand({ TableName: table.tableName, Key: key, ConsistentRead: true }),
  );
  if (Item === undefined) return undefined;
  const countedAt = Item[COUNTED_AT]?.N;
  if (countedAt !== undefined && nowMs - Number(countedAt) < RECOUNT_QUIET_MS) return undefined;
  const presence = channelType(channel) === 'presence';
  const from = {
    subscriptions: Number(Item.subscriptionCount?.N ?? 0),
    ...(presence && { users: Number(Item.userCount?.N ?? 0) }),
  };
  const snapshot = await readChannel(table, appId, channel, nowMs);
  const to = {
    subscriptions: snapshot.subscriberConnectionIds.length,
    ...(presence && { users: snapshot.members.length }),
  };
  if (to.subscriptions === from.subscriptions && to.users === from.users) return undefined;
  const unchanged = {
    ConditionExpression: `#subscriptions = :seen AND ${countedAt === undefined ? 'attribute_not_exists(#countedAt)' : '#countedAt = :countedAt'}`,
    ExpressionAttributeNames: { '#subscriptions': 'subscriptionCount', '#countedAt': COUNTED_AT },
  };
  const seen = {
    ':seen': { N: String(from.subscriptions) },
    ...(countedAt !== undefined && { ':countedAt': { N: countedAt } }),
  };
  const written =
    to.subscriptions === 0
      ? await unlessConditionFails(
          table.client.send(
            new DeleteItemCommand({
              TableName: table.tableName,
              Key: key,
              ...unchanged,
              ExpressionAttributeValues: seen,
            }),
          ),
        )
      : await unlessConditionFails(
          table.client.send(
            new UpdateItemCommand({
              TableName: table.tableName,
              Key: key,
              UpdateExpression: `SET #subscriptions = :subscriptions, #countedAt = :now${presence ? ', #users = :users' : ''}`,
              ...unchanged,
              ExpressionAttributeNames: {
                ...unchanged.ExpressionAttributeNames,
                ...(presence && { '#users': 'userCount' }),
              },
              ExpressionAttributeValues: {
                ...seen,
                ':subscriptions': { N: String(to.subscriptions) },
                ':now': { N: String(nowMs) },
                ...(presence && { ':users': { N: String(to.users) } }),
              },
            }),
          ),
        );
  return written === undefined ? undefined : { channel, from, to };
}

/** The app's channel index entries, names only, page after page. */
export async function* indexedChannels(
  table: StateTable,
  appId: string,
  nowMs: number,
): AsyncGenerator<string> {
  for await (const item of queryAll(table, nowMs, {
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': { S: stateKeys.channelIndexPartition(appId) } },
    ProjectionExpression: 'sk, expiresAt',
  })) {
    const channel = item.sk?.S;
    if (channel !== undefined) yield channel;
  }
}
