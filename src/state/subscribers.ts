import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { MEMBER_PREFIX, SUBSCRIBER_PREFIX, stateKeys } from './keys.js';
import { getLiveItem, queryAll, queryPage, type StateTable } from './table.js';

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

/**
 * The connection's subscriber item on a channel, if it is subscribed (and the item has not expired): one
 * strongly consistent `GetItem`, so a subscription just recorded is seen.
 */
export async function subscriberOf(
  table: StateTable,
  appId: string,
  channel: string,
  connectionId: string,
  nowMs: number,
): Promise<Subscriber | undefined> {
  const item = await getLiveItem(
    table,
    stateKeys.subscriber(appId, channel, connectionId),
    nowMs,
    'userId, expiresAt',
  );
  return item === undefined ? undefined : { connectionId, userId: item.userId?.S };
}

/** One page of a channel's subscribers, in key order, and where the next page starts (none: the last). */
export interface SubscriberPage {
  readonly connectionIds: readonly string[];
  /** The exclusive start of the next page (a subscriber's connection id); undefined after the last page. */
  readonly next: string | undefined;
}

/** Connection ids from `from` (inclusive; '' is the start) to `to` (exclusive; none is the end). */
export interface ConnectionRange {
  readonly from: string;
  readonly to?: string;
}

/**
 * Up to `limit` subscribers of a channel in `range` (the whole channel without one), after the connection id
 * `after` (from the range's start without it): one strongly consistent Query, since an event published after
 * a client was told `subscription_succeeded` must reach it. It reads one item more than it returns, so that
 * a range that ends on a page's last subscriber says so (no next page to read for nothing). Expired items are
 * left out, so a page may hold fewer.
 */
export async function subscriberPage(
  table: StateTable,
  appId: string,
  channel: string,
  nowMs: number,
  page: { readonly limit: number; readonly after?: string; readonly range?: ConnectionRange },
): Promise<SubscriberPage> {
  const pk = stateKeys.channelPartition(appId, channel);
  // `sub$` is the first sort key after every `sub#…`; BETWEEN is inclusive, so the range's end is dropped.
  const from = `${SUBSCRIBER_PREFIX}${page.range?.from ?? ''}`;
  const to = page.range?.to === undefined ? SUBSCRIBERS_END : `${SUBSCRIBER_PREFIX}${page.range.to}`;
  const { items, lastKey } = await queryPage(
    table,
    nowMs,
    {
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': { S: pk }, ':from': { S: from }, ':to': { S: to } },
      ProjectionExpression: 'sk',
    },
    {
      limit: page.limit + 1,
      ...(page.after === undefined
        ? {}
        : { startKey: { pk: { S: pk }, sk: { S: `${SUBSCRIBER_PREFIX}${page.after}` } } }),
    },
  );
  const ids = items
    .map((item) => item.sk?.S ?? '')
    .filter((sk) => sk !== to)
    .map((sk) => sk.slice(SUBSCRIBER_PREFIX.length));
  if (ids.length > page.limit) return { connectionIds: ids.slice(0, page.limit), next: ids[page.limit - 1] };
  const last = lastKey?.sk?.S;
  return {
    connectionIds: ids,
    next: last === undefined || last === to ? undefined : last.slice(SUBSCRIBER_PREFIX.length),
  };
}

// The first sort key after every `sub#…` ('$' follows '#').
const SUBSCRIBERS_END = 'sub$';

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
  const item = await getLiveItem(table, stateKeys.channelIndexEntry(appId, channel), nowMs);
  return {
    subscriptionCount: Math.max(0, Number(item?.subscriptionCount?.N ?? 0)),
    userCount: Math.max(0, Number(item?.userCount?.N ?? 0)),
  };
}
