import { type AttributeValue, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { MEMBER_PREFIX, SUBSCRIBER_PREFIX, stateKeys } from './keys.js';
import { queryAll, type StateTable } from './table.js';

// Reads for publishing and the HTTP API: each one touches only the items it needs (subscribers without the
// presence members, members without the subscribers, one index entry), so a large channel costs no more
// read capacity than its subscriber items.

/** A live subscriber of a channel: its connection and, on presence channels, the user it joined as. */
export interface Subscriber {
  readonly connectionId: string;
  readonly userId: string | undefined;
}

/** Every live subscriber of a channel: one strongly consistent Query, page after page (1 MB each). */
export async function channelSubscribers(
  table: StateTable,
  appId: string,
  channel: string,
  nowMs: number,
): Promise<Subscriber[]> {
  const subscribers: Subscriber[] = [];
  for await (const item of channelItems(table, appId, channel, SUBSCRIBER_PREFIX, 'sk, userId', nowMs)) {
    const sk = item.sk?.S ?? '';
    subscribers.push({ connectionId: sk.slice(SUBSCRIBER_PREFIX.length), userId: item.userId?.S });
  }
  return subscribers;
}

/** The ids of a presence channel's members with at least one connection, in id order. */
export async function presenceMemberIds(
  table: StateTable,
  appId: string,
  channel: string,
  nowMs: number,
): Promise<string[]> {
  const ids: string[] = [];
  for await (const item of channelItems(table, appId, channel, MEMBER_PREFIX, 'sk, connections', nowMs)) {
    if ((item.connections?.SS ?? []).length > 0) ids.push((item.sk?.S ?? '').slice(MEMBER_PREFIX.length));
  }
  return ids;
}

/** The live items of one kind (sort-key prefix) in a channel's partition, with the attributes named. */
function channelItems(
  table: StateTable,
  appId: string,
  channel: string,
  kind: string,
  projection: string,
  nowMs: number,
): AsyncGenerator<Record<string, AttributeValue>> {
  return queryAll(table, nowMs, {
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: {
      ':pk': { S: stateKeys.channelPartition(appId, channel) },
      ':prefix': { S: kind },
    },
    ProjectionExpression: projection,
  });
}

/** A channel's counts from the app's channel index; zeros when nobody is subscribed. */
export async function channelCounts(
  table: StateTable,
  appId: string,
  channel: string,
  nowMs: number,
): Promise<{ readonly subscriptionCount: number; readonly userCount: number }> {
  const { Item } = await table.client.send(
    new GetItemCommand({
      TableName: table.tableName,
      Key: stateKeys.channelIndexEntry(appId, channel),
      ConsistentRead: true,
    }),
  );
  const live = Item !== undefined && Number(Item.expiresAt?.N ?? Infinity) > Math.floor(nowMs / 1000);
  return {
    subscriptionCount: live ? Math.max(0, Number(Item.subscriptionCount?.N ?? 0)) : 0,
    userCount: live ? Math.max(0, Number(Item.userCount?.N ?? 0)) : 0,
  };
}
