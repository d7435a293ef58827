import {
  type AttributeValue,
  DeleteItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { UNLIMITED } from '../apps/app.js';
import { MEMBER_PREFIX, SUBSCRIBER_PREFIX, stateKeys } from './keys.js';
import { expiresAt, queryAll, type StateTable, unlessConditionFails } from './table.js';

/** A presence member as stored: one item per user per channel, with the set of its connections. */
export interface StoredMember {
  readonly userId: string;
  /** `user_info` as JSON text; undefined when the member has none. */
  readonly userInfoJson: string | undefined;
}

/** A channel's partition as one strongly consistent read sees it. */
export interface ChannelSnapshot {
  readonly subscriberConnectionIds: readonly string[];
  /** Presence channels: the users with at least one connection. */
  readonly members: readonly StoredMember[];
}

/** An entry of the app's channel index: what GET /channels reports. */
export interface ChannelCounts {
  readonly channel: string;
  readonly subscriptionCount: number;
  /** Presence channels only. */
  readonly userCount: number | undefined;
}

const CONNECTIONS = 'connections';

/** Records the connection as a subscriber of the channel (with its presence user), for fan-out. */
export async function putSubscriber(
  table: StateTable,
  appId: string,
  channel: string,
  connectionId: string,
  userId: string | undefined,
  nowMs: number,
): Promise<void> {
  const item: Record<string, AttributeValue> = {
    ...stateKeys.subscriber(appId, channel, connectionId),
    expiresAt: { N: String(expiresAt(nowMs)) },
  };
  if (userId !== undefined) item.userId = { S: userId };
  await table.client.send(new PutItemCommand({ TableName: table.tableName, Item: item }));
}

/** Removes a subscriber; returns whether it was there and, for presence, as which user. */
export async function deleteSubscriber(
  table: StateTable,
  appId: string,
  channel: string,
  connectionId: string,
): Promise<{ readonly existed: boolean; readonly userId: string | undefined }> {
  const { Attributes } = await table.client.send(
    new DeleteItemCommand({
      TableName: table.tableName,
      Key: stateKeys.subscriber(appId, channel, connectionId),
      ReturnValues: 'ALL_OLD',
    }),
  );
  return { existed: Attributes !== undefined, userId: Attributes?.userId?.S };
}

/**
 * Adds a connection to a presence member (creating the member); `firstConnection` tells whether the user
 * was absent before, i.e. whether the channel gains a member. The latest `user_info` wins.
 */
export async function joinPresence(
  table: StateTable,
  appId: string,
  channel: string,
  member: StoredMember,
  connectionId: string,
  nowMs: number,
): Promise<{ readonly firstConnection: boolean }> {
  const values: Record<string, AttributeValue> = {
    ':connection': { SS: [connectionId] },
    ':expiresAt': { N: String(expiresAt(nowMs)) },
  };
  let update = 'ADD #connections :connection SET #expiresAt = :expiresAt';
  if (member.userInfoJson === undefined) update += ' REMOVE #userInfo';
  else {
    update += ', #userInfo = :userInfo';
    values[':userInfo'] = { S: member.userInfoJson };
  }
  const { Attributes } = await table.client.send(
    new UpdateItemCommand({
      TableName: table.tableName,
      Key: stateKeys.member(appId, channel, member.userId),
      UpdateExpression: update,
      ExpressionAttributeNames: {
        '#connections': CONNECTIONS,
        '#expiresAt': 'expiresAt',
        '#userInfo': 'userInfo',
      },
      ExpressionAttributeValues: values,
      ReturnValues: 'UPDATED_OLD',
    }),
  );
  return { firstConnection: (Attributes?.[CONNECTIONS]?.SS ?? []).length === 0 };
}

/**
 * Takes a connection off a presence member; `lastConnection` tells whether the user left the channel, in
 * which case the member item goes too (unless a new connection of the user came in meanwhile).
 */
export async function leavePresence(
  table: StateTable,
  appId: string,
  channel: string,
  userId: string,
  connectionId: string,
): Promise<{ readonly lastConnection: boolean }> {
  const key = stateKeys.member(appId, channel, userId);
  const left = await unlessConditionFails(
    table.client.send(
      new UpdateItemCommand({
        TableName: table.tableName,
        Key: key,
        UpdateExpression: 'DELETE #connections :connection',
        ConditionExpression: 'contains(#connections, :id)',
        ExpressionAttributeNames: { '#connections': CONNECTIONS },
        ExpressionAttributeValues: { ':connection': { SS: [connectionId] }, ':id': { S: connectionId } },
        ReturnValues: 'ALL_NEW',
      }),
    ),
  );
  // Not one of the member's connections (already taken off): this call made no one leave.
  if (left === undefined) return { lastConnection: false };
  if ((left.Attributes?.[CONNECTIONS]?.SS ?? []).length > 0) return { lastConnection: false };
  await unlessConditionFails(
    table.client.send(
      new DeleteItemCommand({
        TableName: table.tableName,
        Key: key,
        ConditionExpression: 'attribute_not_exists(#connections)',
        ExpressionAttributeNames: { '#connections': CONNECTIONS },
      }),
    ),
  );
  return { lastConnection: true };
}

/**
 * Updates the app's channel index by one subscription (`+1` or `-1`) and, on presence channels, by a
 * member. A member joining (`users: 1`) is refused, and nothing is counted, when the channel already has
 * `maxUsers`: the check and the count are one atomic write, so concurrent joins never overshoot. An entry
 * whose subscriptions reach 0 is removed. Returns false only for a refused member.
 */
export async function countSubscription(
  table: StateTable,
  appId: string,
  channel: string,
  change: { readonly subscriptions: 1 | -1; readonly users: 1 | 0 | -1; readonly maxUsers: number },
  nowMs: number,
): Promise<boolean> {
  if (change.users > 0 && !(change.maxUsers >= 1)) return false;
  const key = stateKeys.channelIndexEntry(appId, channel);
  const names: Record<string, string> = { '#subscriptions': 'subscriptionCount', '#expiresAt': 'expiresAt' };
  const values: Record<string, AttributeValue> = {
    ':subscriptions': { N: String(change.subscriptions) },
    ':expiresAt': { N: String(expiresAt(nowMs)) },
  };
  let update = 'ADD #subscriptions :subscriptions';
  let condition: string | undefined;
  if (change.users !== 0) {
    names['#users'] = 'userCount';
    values[':users'] = { N: String(change.users) };
    update += ', #users :users';
    if (change.users > 0 && change.maxUsers !== UNLIMITED) {
      condition = 'attribute_not_exists(#users) OR #users < :maxUsers';
      values[':maxUsers'] = { N: String(change.maxUsers) };
    }
  }
  update += ' SET #expiresAt = :expiresAt';
  const counted = await unlessConditionFails(
    table.client.send(
      new UpdateItemCommand({
        TableName: table.tableName,
        Key: key,
        UpdateExpression: update,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'UPDATED_NEW',
      }),
    ),
  );
  if (counted === undefined) return false;
  if (Number(counted.Attributes?.subscriptionCount?.N ?? 0) <= 0) {
    await unlessConditionFails(
      table.client.send(
        new DeleteItemCommand({
          TableName: table.tableName,
          Key: key,
          ConditionExpression: '#subscriptions <= :zero',
          ExpressionAttributeNames: { '#subscriptions': 'subscriptionCount' },
          ExpressionAttributeValues: { ':zero': { N: '0' } },
        }),
      ),
    );
  }
  return true;
}

/** Every subscriber and presence member of a channel: one paginated, strongly consistent Query. */
export async function readChannel(
  table: StateTable,
  appId: string,
  channel: string,
): Promise<ChannelSnapshot> {
  const subscriberConnectionIds: string[] = [];
  const members: StoredMember[] = [];
  for await (const item of queryAll(table, {
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': { S: stateKeys.channelPartition(appId, channel) } },
  })) {
    const sk = item.sk?.S ?? '';
    if (sk.startsWith(SUBSCRIBER_PREFIX)) subscriberConnectionIds.push(sk.slice(SUBSCRIBER_PREFIX.length));
    else if (sk.startsWith(MEMBER_PREFIX) && (item[CONNECTIONS]?.SS ?? []).length > 0) {
      members.push({ userId: sk.slice(MEMBER_PREFIX.length), userInfoJson: item.userInfo?.S });
    }
  }
  return { subscriberConnectionIds, members };
}

/** The app's channels whose names start with `prefix`, with their counts, in name order. */
export async function listChannels(table: StateTable, appId: string, prefix = ''): Promise<ChannelCounts[]> {
  const channels: ChannelCounts[] = [];
  for await (const item of queryAll(table, {
    KeyConditionExpression: prefix === '' ? 'pk = :pk' : 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: {
      ':pk': { S: stateKeys.channelIndexPartition(appId) },
      ...(prefix === '' ? {} : { ':prefix': { S: prefix } }),
    },
  })) {
    const subscriptionCount = Number(item.subscriptionCount?.N ?? 0);
    if (subscriptionCount <= 0) continue;
    channels.push({
      channel: item.sk?.S ?? '',
      subscriptionCount,
      userCount: item.userCount?.N === undefined ? undefined : Number(item.userCount.N),
    });
  }
  return channels;
}
