import {
  type AttributeValue,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  type OpsCharge,
  type OpsRate,
  opsCharge,
  opsReset,
  opsUse,
  opsVerdict,
  UNCHARGED,
} from './connection-ops.js';
import { stateKeys } from './keys.js';
import { expiresAt, type StateTable, unlessConditionFails } from './table.js';

/** The user a connection signed in as (`pusher:signin`). */
export interface SignedInUser {
  readonly userId: string;
  /** `user_info` of the signed `user_data`, as JSON text; what presence members show without `channel_data`. */
  readonly userInfoJson: string | undefined;
}

/** A connection's record: written at `$connect`, the one place `$disconnect` learns what to clean up. */
export interface ConnectionRecord {
  readonly connectionId: string;
  readonly appId: string;
  readonly connectedAtMs: number;
  /** The MaxConnections counter bucket it was counted in; undefined for an unlimited app. */
  readonly bucket: number | undefined;
  readonly channels: readonly string[];
  readonly user: SignedInUser | undefined;
  /**
   * The webhook event types the app asked for when the connection opened (from the `$connect` authorizer):
   * what its cleanup raises without reading the app. Empty for none.
   */
  readonly webhooks: string;
  /** The subscribe/signin credit's state (see `opsCharge`); absent until the first one. */
  readonly opsAtMs?: number;
}

/** What a subscription requires of the connection, checked in the same write that records it. */
export type SubscriptionRequirement =
  | { readonly kind: 'none' }
  /** Presence without `channel_data`: the member is the signed-in user. */
  | { readonly kind: 'signed-in' }
  /** `#server-to-user-<id>`: only the connection signed in as that user. */
  | { readonly kind: 'user'; readonly userId: string };

export type AddChannelOutcome =
  | { readonly kind: 'added'; readonly connection: ConnectionRecord }
  | { readonly kind: 'already-subscribed'; readonly connection: ConnectionRecord }
  | { readonly kind: 'requirement-unmet'; readonly connection: ConnectionRecord }
  /** The connection holds `maxChannels` subscriptions already. */
  | { readonly kind: 'too-many-channels'; readonly connection: ConnectionRecord }
  /** The connection used up its subscribe/signin credit (`OpsRate`). */
  | { readonly kind: 'too-fast'; readonly connection: ConnectionRecord }
  /** No record: refused at `$connect`, or already cleaned up. */
  | { readonly kind: 'no-connection' };

const CHANNELS = 'channels';

function connectionItem(record: ConnectionRecord): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = {
    ...stateKeys.connection(record.connectionId),
    appId: { S: record.appId },
    connectedAt: { N: String(record.connectedAtMs) },
    expiresAt: { N: String(expiresAt(record.connectedAtMs)) },
  };
  if (record.bucket !== undefined) item.bucket = { N: String(record.bucket) };
  if (record.webhooks !== '') item.webhooks = { S: record.webhooks };
  // A new connection has neither; a record put back after a failed cleanup has them.
  if (record.channels.length > 0) item[CHANNELS] = { SS: [...record.channels] };
  if (record.user !== undefined) {
    item.userId = { S: record.user.userId };
    if (record.user.userInfoJson !== undefined) item.userInfo = { S: record.user.userInfoJson };
  }
  if (record.opsAtMs !== undefined) item.opsAt = { N: String(record.opsAtMs) };
  return item;
}

export async function putConnection(table: StateTable, record: ConnectionRecord): Promise<void> {
  await table.client.send(new PutItemCommand({ TableName: table.tableName, Item: connectionItem(record) }));
}

/**
 * Writes a deleted record back whole (see `cleanUpConnections`). An update, not a put: the functions that
 * clean up may update and delete connection records, never put one.
 */
export async function restoreConnection(table: StateTable, record: ConnectionRecord): Promise<void> {
  const { pk, sk, ...attributes } = connectionItem(record);
  const names = Object.keys(attributes);
  await table.client.send(
    new UpdateItemCommand({
      TableName: table.tableName,
      Key: { pk: pk!, sk: sk! },
      UpdateExpression: `SET ${names.map((_, i) => `#a${i} = :a${i}`).join(', ')}`,
      ExpressionAttributeNames: Object.fromEntries(names.map((name, i) => [`#a${i}`, name])),
      ExpressionAttributeValues: Object.fromEntries(names.map((name, i) => [`:a${i}`, attributes[name]!])),
    }),
  );
}

export async function getConnection(
  table: StateTable,
  connectionId: string,
): Promise<ConnectionRecord | undefined> {
  const { Item } = await table.client.send(
    new GetItemCommand({
      TableName: table.tableName,
      Key: stateKeys.connection(connectionId),
      ConsistentRead: true,
    }),
  );
  return Item && connectionRecord(connectionId, Item);
}

/** Deletes the record and returns what it held: one call tells `$disconnect` everything to clean up. */
export async function deleteConnection(
  table: StateTable,
  connectionId: string,
): Promise<ConnectionRecord | undefined> {
  const { Attributes } = await table.client.send(
    new DeleteItemCommand({
      TableName: table.tableName,
      Key: stateKeys.connection(connectionId),
      ReturnValues: 'ALL_OLD',
    }),
  );
  return Attributes && connectionRecord(connectionId, Attributes);
}

/**
 * Adds a channel to the connection's set, if the connection exists, is not subscribed yet, holds fewer than
 * `limits.maxChannels`, has subscribe credit left (`limits.ops`) and meets the requirement: one conditional
 * write, so a refused or vanished connection never gains a subscription. A record past its `expiresAt` (its
 * connection is dead, the sweeper has not come yet) counts as none.
 */
export async function addChannel(
  table: StateTable,
  connectionId: string,
  channel: string,
  requirement: SubscriptionRequirement,
  nowMs: number,
  limits: ConnectionLimits,
): Promise<AddChannelOutcome> {
  const names: Record<string, string> = { '#channels': CHANNELS, '#expiresAt': 'expiresAt' };
  const values: Record<string, AttributeValue> = {
    ':channels': { SS: [channel] },
    ':channel': { S: channel },
    ':now': { N: String(Math.floor(nowMs / 1000)) },
    ':maxChannels': { N: String(limits.maxChannels) },
  };
  let condition =
    'attribute_exists(pk) AND #expiresAt > :now AND NOT contains(#channels, :channel) AND ' +
    '(attribute_not_exists(#channels) OR size(#channels) < :maxChannels)';
  if (requirement.kind !== 'none') {
    names['#userId'] = 'userId';
    if (requirement.kind === 'signed-in') condition += ' AND attribute_exists(#userId)';
    else {
      condition += ' AND #userId = :userId';
      values[':userId'] = { S: requirement.userId };
    }
  }
  let charge = opsCharge(limits.ops, nowMs);
  for (let attempt = 1; ; attempt++) {
    const write = { update: 'ADD #channels :channels', condition, names, values };
    const added = await updateRecord(table, connectionId, write, charge, 'ALL_OLD');
    if (added) return { kind: 'added', connection: connectionRecord(connectionId, added.Attributes ?? {}) };
    // Which condition failed: rare paths, so one consistent read rather than a branch per DynamoDB feature.
    const connection = await getConnection(table, connectionId);
    if (connection === undefined || expiresAt(connection.connectedAtMs) <= Math.floor(nowMs / 1000)) {
      return { kind: 'no-connection' };
    }
    if (connection.channels.includes(channel)) return { kind: 'already-subscribed', connection };
    if (!meets(connection, requirement)) return { kind: 'requirement-unmet', connection };
    if (connection.channels.length >= limits.maxChannels) return { kind: 'too-many-channels', connection };
    const verdict = opsVerdict(limits.ops, connection.opsAtMs, nowMs);
    if (verdict === 'too-fast') return { kind: 'too-fast', connection };
    // Each try charges what the record now calls for: a reset another message made meanwhile is not redone.
    charge =
      verdict === 'reset' ? opsReset(limits.ops, nowMs, connection.opsAtMs!) : opsCharge(limits.ops, nowMs);
    // Every condition holds now (or the credit only needed its reset): another subscribe of this connection
    // held the last place a moment ago and gave it back. Try again rather than name a reason that is not true.
    if (attempt === RECORD_WRITE_ATTEMPTS) {
      throw new Error(`the channel set of connection ${connectionId} kept changing; try again`);
    }
  }
}

/** What one connection may hold and how fast it may change it (`MAX_CHANNELS_PER_CONNECTION`, `OpsRate`). */
export interface ConnectionLimits {
  readonly maxChannels: number;
  readonly ops: OpsRate;
}

/** The expression parts of an UpdateItem of a connection record. */
interface RecordWrite {
  readonly update: string;
  readonly condition: string;
  readonly names: Record<string, string>;
  readonly values: Record<string, AttributeValue>;
}

/** A conditional update of the connection record with `charge` merged in; undefined when a condition fails. */
function updateRecord(
  table: StateTable,
  connectionId: string,
  write: RecordWrite,
  charge: OpsCharge,
  returnValues: 'ALL_OLD' | 'UPDATED_OLD',
) {
  return unlessConditionFails(
    table.client.send(
      new UpdateItemCommand({
        TableName: table.tableName,
        Key: stateKeys.connection(connectionId),
        ...withCharge(write, charge),
        ReturnValues: returnValues,
      }),
    ),
  );
}

/** An UpdateItem's expression parts with an `OpsCharge` merged in. */
function withCharge(write: RecordWrite, charge: OpsCharge) {
  const update = charge.set === '' ? write.update : mergeSet(write.update, charge.set);
  const condition = [write.condition, charge.condition].filter((part) => part !== '').join(' AND ');
  return {
    UpdateExpression: update,
    ...(condition === '' ? {} : { ConditionExpression: condition }),
    ExpressionAttributeNames: { ...write.names, ...charge.names },
    ExpressionAttributeValues: { ...write.values, ...charge.values },
  };
}

/** Adds a `SET` action to an update expression, into its `SET` clause if it has one. */
function mergeSet(update: string, action: string): string {
  return /(^|\s)SET\s/.test(update)
    ? update.replace(/(^|\s)SET\s/, `$1SET ${action}, `)
    : `${update} SET ${action}`;
}

/** Writes `addChannel` and `setUser` try while the record changes under them (the connection's other messages). */
const RECORD_WRITE_ATTEMPTS = 3;

function meets(connection: ConnectionRecord, requirement: SubscriptionRequirement): boolean {
  switch (requirement.kind) {
    case 'none':
      return true;
    case 'signed-in':
      return connection.user !== undefined;
    case 'user':
      return connection.user?.userId === requirement.userId;
  }
}

/**
 * Whether the connection still has the channel in its set, checked by a conditional write (strongly
 * consistent, ordered with `$disconnect`'s delete and an unsubscribe's removal). A subscribe checks it after
 * its last write: when it fails, a `$disconnect` or unsubscribe ran meanwhile and may have missed what the
 * subscribe wrote.
 */
export async function stillSubscribed(
  table: StateTable,
  connectionId: string,
  channel: string,
): Promise<boolean> {
  const checked = await unlessConditionFails(
    table.client.send(
      new UpdateItemCommand({
        TableName: table.tableName,
        Key: stateKeys.connection(connectionId),
        UpdateExpression: 'SET #channels = #channels',
        ConditionExpression: 'contains(#channels, :channel)',
        ExpressionAttributeNames: { '#channels': CHANNELS },
        ExpressionAttributeValues: { ':channel': { S: channel } },
      }),
    ),
  );
  return checked !== undefined;
}

/**
 * Removes a channel from the connection's set: the record as it was, or undefined when it was not there. A
 * client's unsubscribe passes its `rate`: it uses the connection's credit (never refused); a take-back does not.
 */
export async function removeChannel(
  table: StateTable,
  connectionId: string,
  channel: string,
  use?: { readonly rate: OpsRate; readonly nowMs: number },
): Promise<ConnectionRecord | undefined> {
  const write = {
    update: 'DELETE #channels :channels',
    condition: 'contains(#channels, :channel)',
    names: { '#channels': CHANNELS },
    values: { ':channels': { SS: [channel] }, ':channel': { S: channel } },
  };
  const charge = use === undefined ? UNCHARGED : opsUse(use.rate, use.nowMs);
  const removed = await updateRecord(table, connectionId, write, charge, 'ALL_OLD');
  return removed && connectionRecord(connectionId, removed.Attributes ?? {});
}

export type SetUserOutcome =
  | { readonly kind: 'set'; readonly previousUserId: string | undefined }
  /** The connection used up its subscribe/signin credit (`OpsRate`). */
  | { readonly kind: 'too-fast' }
  | { readonly kind: 'no-connection' };

/** Records the signed-in user on the connection, replacing an earlier signin, if it has credit left. */
export async function setUser(
  table: StateTable,
  connectionId: string,
  user: SignedInUser,
  rate: OpsRate,
  nowMs: number,
): Promise<SetUserOutcome> {
  const values: Record<string, AttributeValue> = { ':userId': { S: user.userId } };
  let update = 'SET #userId = :userId';
  if (user.userInfoJson === undefined) update += ' REMOVE #userInfo';
  else {
    update += ', #userInfo = :userInfo';
    values[':userInfo'] = { S: user.userInfoJson };
  }
  const write = {
    update,
    condition: 'attribute_exists(pk)',
    names: { '#userId': 'userId', '#userInfo': 'userInfo' },
    values,
  };
  let charge = opsCharge(rate, nowMs);
  for (let attempt = 1; ; attempt++) {
    const set = await updateRecord(table, connectionId, write, charge, 'UPDATED_OLD');
    if (set) return { kind: 'set', previousUserId: set.Attributes?.userId?.S };
    const connection = await getConnection(table, connectionId);
    if (connection === undefined) return { kind: 'no-connection' };
    const verdict = opsVerdict(rate, connection.opsAtMs, nowMs);
    if (verdict === 'too-fast') return { kind: 'too-fast' };
    charge = verdict === 'reset' ? opsReset(rate, nowMs, connection.opsAtMs!) : opsCharge(rate, nowMs);
    if (attempt === RECORD_WRITE_ATTEMPTS) {
      throw new Error(`the record of connection ${connectionId} kept changing; try again`);
    }
  }
}

function connectionRecord(connectionId: string, item: Record<string, AttributeValue>): ConnectionRecord {
  const userId = item.userId?.S;
  return {
    connectionId,
    appId: item.appId?.S ?? '',
    connectedAtMs: Number(item.connectedAt?.N ?? 0),
    bucket: item.bucket?.N === undefined ? undefined : Number(item.bucket.N),
    channels: item[CHANNELS]?.SS ?? [],
    user: userId === undefined ? undefined : { userId, userInfoJson: item.userInfo?.S },
    webhooks: item.webhooks?.S ?? '',
    ...(item.opsAt?.N === undefined ? {} : { opsAtMs: Number(item.opsAt.N) }),
  };
}
