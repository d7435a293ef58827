import {
  type AttributeValue,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { UNLIMITED } from '../apps/app.js';
import type { Member } from '../protocol/frames.js';
import { type ItemKey, MEMBER_PREFIX, SUBSCRIBER_PREFIX, stateKeys } from './keys.js';
import { expiresAt, queryAll, type StateTable, unlessConditionFails } from './table.js';

/** A presence member as stored: one item per user per channel, with the set of its connections. */
export interface StoredMember {
  readonly userId: string;
  /** `user_info` as JSON text; undefined when the member has none. */
  readonly userInfoJson: string | undefined;
}

/** A member as the state table stores it, as frames carry it. */
export function memberOf(member: StoredMember): Member {
  return {
    userId: member.userId,
    userInfo: member.userInfoJson === undefined ? undefined : JSON.parse(member.userInfoJson),
  };
}

/** A channel's partition as one strongly consistent read sees it. */
export interface ChannelSnapshot {
  readonly subscriberConnectionIds: readonly string[];
  /** Presence channels: the user each subscriber joined as, by connection id. */
  readonly subscriberUserIds: ReadonlyMap<string, string>;
  /** Presence channels: the users with at least one connection. */
  readonly members: readonly StoredMember[];
}

/**
 * The subscribers of a snapshot other than the connections of presence user `userId`: who hears of that
 * user joining or leaving (pusher-js would drop itself from its own roster, or count itself twice).
 */
export function subscribersOtherThanUser(snapshot: ChannelSnapshot, userId: string): string[] {
  return snapshot.subscriberConnectionIds.filter((id) => snapshot.subscriberUserIds.get(id) !== userId);
}

/** An entry of the app's channel index: what GET /channels reports. */
export interface ChannelCounts {
  readonly channel: string;
  readonly subscriptionCount: number;
  /** Presence channels only. */
  readonly userCount: number | undefined;
}

const CONNECTIONS = 'connections';
/** On a channel index entry: when (epoch ms) a member was last counted in. */
const USERS_ADDED_AT = 'usersAddedAt';
/** The channel index entry's last count change, in epoch ms (see `recountChannel`). */
export const COUNTED_AT = 'countedAt';

/**
 * How long a member count may belong to a subscribe still on its way (counted, member not written yet):
 * longer than the `$default` Lambda's timeout (10 s), so a recount never drops a count in use.
 */
export const MEMBER_RECOUNT_GRACE_MS = 30_000;

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

/** The condition a write puts on an item that may be past its `expiresAt` but not yet swept: live only. */
const LIVE_OR_ABSENT = '(attribute_not_exists(pk) OR #expiresAt > :now)';
const EXPIRED = '#expiresAt <= :now';
const nowSeconds = (nowMs: number) => ({ N: String(Math.floor(nowMs / 1000)) });

/** The write that adds a connection to a member item and refreshes its `user_info` and `expiresAt`. */
function memberUpdate(member: StoredMember, connectionId: string, nowMs: number) {
  const values: Record<string, AttributeValue> = {
    ':connection': { SS: [connectionId] },
    ':expiresAt': { N: String(expiresAt(nowMs)) },
    ':now': nowSeconds(nowMs),
  };
  let update = 'ADD #connections :connection SET #expiresAt = :expiresAt';
  if (member.userInfoJson === undefined) update += ' REMOVE #userInfo';
  else {
    update += ', #userInfo = :userInfo';
    values[':userInfo'] = { S: member.userInfoJson };
  }
  return {
    UpdateExpression: update,
    ExpressionAttributeNames: {
      '#connections': CONNECTIONS,
      '#expiresAt': 'expiresAt',
      '#userInfo': 'userInfo',
    },
    ExpressionAttributeValues: values,
  };
}

/**
 * Adds a connection to a presence member (creating the member); `firstConnection` tells whether the user
 * was absent before, i.e. whether the channel gains a member. The latest `user_info` wins. A member item
 * past its `expiresAt` (left by dead connections, not swept yet) counts as absent and is replaced.
 */
export async function joinPresence(
  table: StateTable,
  appId: string,
  channel: string,
  member: StoredMember,
  connectionId: string,
  nowMs: number,
): Promise<{ readonly firstConnection: boolean }> {
  const key = stateKeys.member(appId, channel, member.userId);
  const update = memberUpdate(member, connectionId, nowMs);
  // Twice at most: a replaced expired item is live, so the second update cannot meet it.
  for (let attempt = 0; attempt < 2; attempt++) {
    const joined = await unlessConditionFails(
      table.client.send(
        new UpdateItemCommand({
          TableName: table.tableName,
          Key: key,
          ...update,
          ConditionExpression: LIVE_OR_ABSENT,
          ReturnValues: 'ALL_OLD',
        }),
      ),
    );
    // `leavePresence` never leaves a member item without connections, so an item there means a present user.
    if (joined) return { firstConnection: (joined.Attributes?.[CONNECTIONS]?.SS ?? []).length === 0 };
    const item: Record<string, AttributeValue> = {
      ...key,
      [CONNECTIONS]: { SS: [connectionId] },
      expiresAt: update.ExpressionAttributeValues[':expiresAt']!,
    };
    if (member.userInfoJson !== undefined) item.userInfo = { S: member.userInfoJson };
    const replaced = await unlessConditionFails(
      table.client.send(
        new PutItemCommand({
          TableName: table.tableName,
          Item: item,
          ConditionExpression: EXPIRED,
          ExpressionAttributeNames: { '#expiresAt': 'expiresAt' },
          ExpressionAttributeValues: { ':now': nowSeconds(nowMs) },
        }),
      ),
    );
    if (replaced) return { firstConnection: true };
  }
  throw new Error(`presence member ${member.userId} of ${channel} could not be written`);
}

/**
 * Adds a connection to a presence member only if the user is present (a live member item): another
 * connection of a present user needs no room under the member limit. False when the user is absent.
 */
export async function joinPresentMember(
  table: StateTable,
  appId: string,
  channel: string,
  member: StoredMember,
  connectionId: string,
  nowMs: number,
): Promise<boolean> {
  const joined = await unlessConditionFails(
    table.client.send(
      new UpdateItemCommand({
        TableName: table.tableName,
        Key: stateKeys.member(appId, channel, member.userId),
        ...memberUpdate(member, connectionId, nowMs),
        ConditionExpression: 'attribute_exists(#connections) AND #expiresAt > :now',
      }),
    ),
  );
  return joined !== undefined;
}

/**
 * Takes a connection off a presence member; `lastConnection` tells whether the user left the channel. The
 * last connection deletes the member item in the same write that decides it is the last, so a join racing
 * the leave either finds the user present (and the leave then is not the last) or finds the user gone.
 */
export async function leavePresence(
  table: StateTable,
  appId: string,
  channel: string,
  userId: string,
  connectionId: string,
): Promise<{ readonly lastConnection: boolean }> {
  const key = stateKeys.member(appId, channel, userId);
  const names = { '#connections': CONNECTIONS };
  const id = { ':id': { S: connectionId }, ':one': { N: '1' } };
  // Each pair of writes fails only when a join or leave of the same user changed the set in between.
  for (let attempt = 0; attempt < 3; attempt++) {
    const deleted = await unlessConditionFails(
      table.client.send(
        new DeleteItemCommand({
          TableName: table.tableName,
          Key: key,
          ConditionExpression: 'contains(#connections, :id) AND size(#connections) = :one',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: id,
        }),
      ),
    );
    if (deleted) return { lastConnection: true };
    const removed = await unlessConditionFails(
      table.client.send(
        new UpdateItemCommand({
          TableName: table.tableName,
          Key: key,
          UpdateExpression: 'DELETE #connections :connection',
          ConditionExpression: 'contains(#connections, :id) AND size(#connections) > :one',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ...id, ':connection': { SS: [connectionId] } },
        }),
      ),
    );
    if (removed) return { lastConnection: false };
    const { Item } = await table.client.send(
      new GetItemCommand({ TableName: table.tableName, Key: key, ConsistentRead: true }),
    );
    // Not one of the member's connections (already taken off): this call made no one leave.
    if (!(Item?.[CONNECTIONS]?.SS ?? []).includes(connectionId)) return { lastConnection: false };
  }
  throw new Error(`presence member ${userId} of ${channel} kept changing while ${connectionId} left`);
}

/** A change the channel index took: the subscriptions it counts now (1 after a first, 0 after a last). */
export interface CountedSubscription {
  readonly subscriptionCount: number;
}

/**
 * Updates the app's channel index by subscriptions and, on presence channels, by members. A member joining
 * (`users: 1`) is refused, and nothing is counted, when the channel already has `maxUsers`: the check and
 * the count are one atomic write. An entry past its `expiresAt` (not swept yet) counts as absent: it is
 * replaced, or deleted by a decrement. An entry whose subscriptions reach 0 is removed. Returns undefined
 * only for a refused member; the count it returns is the one this atomic write left, so the 0 → 1 and
 * 1 → 0 steps (a channel occupied, vacated) are each seen by exactly one caller.
 */
export async function countSubscription(
  table: StateTable,
  appId: string,
  channel: string,
  change: { readonly subscriptions: 1 | 0 | -1; readonly users: 1 | 0 | -1; readonly maxUsers: number },
  nowMs: number,
): Promise<CountedSubscription | undefined> {
  if (change.users > 0 && !(change.maxUsers >= 1)) return undefined;
  const key = stateKeys.channelIndexEntry(appId, channel);
  const names: Record<string, string> = { '#subscriptions': 'subscriptionCount', '#expiresAt': 'expiresAt' };
  const values: Record<string, AttributeValue> = {
    ':subscriptions': { N: String(change.subscriptions) },
    ':expiresAt': { N: String(expiresAt(nowMs)) },
    ':now': nowSeconds(nowMs),
  };
  let update = 'ADD #subscriptions :subscriptions';
  let condition = LIVE_OR_ABSENT;
  if (change.users !== 0) {
    names['#users'] = 'userCount';
    values[':users'] = { N: String(change.users) };
    update += ', #users :users';
    if (change.users > 0 && change.maxUsers !== UNLIMITED) {
      condition += ' AND (attribute_not_exists(#users) OR #users < :maxUsers)';
      values[':maxUsers'] = { N: String(change.maxUsers) };
    }
  }
  // When the counts last changed: a recount leaves a channel alone until it has been quiet a while.
  names['#countedAt'] = COUNTED_AT;
  values[':nowMs'] = { N: String(nowMs) };
  update += ' SET #expiresAt = :expiresAt, #countedAt = :nowMs';
  if (change.users > 0) {
    names['#usersAddedAt'] = USERS_ADDED_AT;
    update += ', #usersAddedAt = :nowMs';
  }
  const counted = await unlessConditionFails(
    table.client.send(
      new UpdateItemCommand({
        TableName: table.tableName,
        Key: key,
        UpdateExpression: update,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    ),
  );
  if (counted === undefined) return replaceExpiredEntry(table, key, change, nowMs);
  const subscriptionCount = Number(counted.Attributes?.subscriptionCount?.N ?? 0);
  if (subscriptionCount <= 0) {
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
  return { subscriptionCount: Math.max(0, subscriptionCount) };
}

/**
 * After a refused count: when the entry was past its `expiresAt`, starts it afresh with the change (or, for a
 * change that adds nothing, deletes it) and returns what it counts now; undefined when the entry is live
 * (the limit refused).
 */
async function replaceExpiredEntry(
  table: StateTable,
  key: ItemKey,
  change: { readonly subscriptions: number; readonly users: number },
  nowMs: number,
): Promise<CountedSubscription | undefined> {
  const expired = {
    ConditionExpression: EXPIRED,
    ExpressionAttributeNames: { '#expiresAt': 'expiresAt' },
    ExpressionAttributeValues: { ':now': nowSeconds(nowMs) },
  };
  if (change.subscriptions <= 0) {
    const deleted = await unlessConditionFails(
      table.client.send(new DeleteItemCommand({ TableName: table.tableName, Key: key, ...expired })),
    );
    return deleted && { subscriptionCount: 0 };
  }
  const item: Record<string, AttributeValue> = {
    ...key,
    subscriptionCount: { N: String(change.subscriptions) },
    expiresAt: { N: String(expiresAt(nowMs)) },
    [COUNTED_AT]: { N: String(nowMs) },
  };
  if (change.users !== 0) item.userCount = { N: String(Math.max(0, change.users)) };
  if (change.users > 0) item[USERS_ADDED_AT] = { N: String(nowMs) };
  const replaced = await unlessConditionFails(
    table.client.send(new PutItemCommand({ TableName: table.tableName, Item: item, ...expired })),
  );
  return replaced && { subscriptionCount: change.subscriptions };
}

/**
 * Corrects a presence channel's `userCount` to its live members (one Query of the partition) when it counts
 * more: a subscribe that counted its member and died before writing it leaves a count that nothing takes
 * back, and would block the channel for as long as it stays active. Only when no member was counted in for
 * `MEMBER_RECOUNT_GRACE_MS` (a newer count may belong to a join still on its way), and only if the count
 * did not change meanwhile. Returns whether it corrected the count.
 */
export async function recountMembers(
  table: StateTable,
  appId: string,
  channel: string,
  nowMs: number,
): Promise<boolean> {
  const key = stateKeys.channelIndexEntry(appId, channel);
  const { Item } = await table.client.send(
    new GetItemCommand({ TableName: table.tableName, Key: key, ConsistentRead: true }),
  );
  const counted = Item?.userCount?.N;
  const addedAt = Item?.[USERS_ADDED_AT]?.N;
  if (counted === undefined || addedAt === undefined) return false;
  if (nowMs - Number(addedAt) < MEMBER_RECOUNT_GRACE_MS) return false;
  const live = (await readChannel(table, appId, channel, nowMs)).members.length;
  if (live >= Number(counted)) return false;
  const corrected = await unlessConditionFails(
    table.client.send(
      new UpdateItemCommand({
        TableName: table.tableName,
        Key: key,
        UpdateExpression: 'SET #users = :live',
        ConditionExpression: '#users = :counted AND #usersAddedAt = :addedAt',
        ExpressionAttributeNames: { '#users': 'userCount', '#usersAddedAt': USERS_ADDED_AT },
        ExpressionAttributeValues: {
          ':live': { N: String(live) },
          ':counted': { N: counted },
          ':addedAt': { N: addedAt },
        },
      }),
    ),
  );
  return corrected !== undefined;
}

/** Every live subscriber and presence member of a channel: one paginated, strongly consistent Query. */
export async function readChannel(
  table: StateTable,
  appId: string,
  channel: string,
  nowMs: number,
): Promise<ChannelSnapshot> {
  const subscriberConnectionIds: string[] = [];
  const subscriberUserIds = new Map<string, string>();
  const members: StoredMember[] = [];
  for await (const item of queryAll(table, nowMs, {
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': { S: stateKeys.channelPartition(appId, channel) } },
  })) {
    const sk = item.sk?.S ?? '';
    if (sk.startsWith(SUBSCRIBER_PREFIX)) {
      const connectionId = sk.slice(SUBSCRIBER_PREFIX.length);
      subscriberConnectionIds.push(connectionId);
      if (item.userId?.S !== undefined) subscriberUserIds.set(connectionId, item.userId.S);
    } else if (sk.startsWith(MEMBER_PREFIX) && (item[CONNECTIONS]?.SS ?? []).length > 0) {
      members.push({ userId: sk.slice(MEMBER_PREFIX.length), userInfoJson: item.userInfo?.S });
    }
  }
  return { subscriberConnectionIds, subscriberUserIds, members };
}

/** The app's channels whose names start with `prefix`, with their counts, in name order. */
export async function listChannels(
  table: StateTable,
  appId: string,
  prefix: string,
  nowMs: number,
): Promise<ChannelCounts[]> {
  const channels: ChannelCounts[] = [];
  for await (const item of queryAll(table, nowMs, {
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
