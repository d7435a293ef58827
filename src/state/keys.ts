import type { AttributeValue } from '@aws-sdk/client-dynamodb';

// Keys of the WebSocket server's items in the state table (generic `pk`/`sk`). Each kind owns a `pk` prefix
// that no other concern uses (the rate limiter has `rate#`). An app id may contain `#`, so it is escaped;
// channel names, user ids and connection ids always come last, where a `#` in them cannot be misread.

export type ItemKey = Record<'pk' | 'sk', AttributeValue>;

/**
 * The longest channel name stored whatever the app allows: names are part of DynamoDB keys (a sort key holds
 * at most 1024 bytes; channel names are ASCII), and Pusher's own limit is 200 (SDKs) or 164 (docs).
 */
export const MAX_STORABLE_CHANNEL_NAME_LENGTH = 500;

/** The channel-name limit every path enforces: the app's `MaxChannelNameLength`, never past what a key holds. */
export function channelNameLimitOf(app: { readonly maxChannelNameLength: number }): number {
  return Math.min(app.maxChannelNameLength, MAX_STORABLE_CHANNEL_NAME_LENGTH);
}

const key = (pk: string, sk: string): ItemKey => ({ pk: { S: pk }, sk: { S: sk } });

/** `%` and `#` escaped, so `<app>#<rest>` splits at the first `#` whatever the app id holds. */
const app = (appId: string): string => appId.replaceAll('%', '%25').replaceAll('#', '%23');

/** Sort-key prefixes inside a channel's partition. */
export const SUBSCRIBER_PREFIX = 'sub#';
export const MEMBER_PREFIX = 'member#';

export const stateKeys = {
  /** A connection: its app, counter bucket, channels and signed-in user. */
  connection: (connectionId: string): ItemKey => key(`connection#${connectionId}`, 'connection'),
  /** A channel's partition: its subscribers and, for presence channels, its members. */
  channelPartition: (appId: string, channel: string): string => `channel#${app(appId)}#${channel}`,
  subscriber: (appId: string, channel: string, connectionId: string): ItemKey =>
    key(stateKeys.channelPartition(appId, channel), `${SUBSCRIBER_PREFIX}${connectionId}`),
  member: (appId: string, channel: string, userId: string): ItemKey =>
    key(stateKeys.channelPartition(appId, channel), `${MEMBER_PREFIX}${userId}`),
  /** The app's occupied channels with their counts, sorted by name (GET /channels?filter_by_prefix). */
  channelIndexPartition: (appId: string): string => `channels#${app(appId)}`,
  channelIndexEntry: (appId: string, channel: string): ItemKey =>
    key(stateKeys.channelIndexPartition(appId), channel),
  /** The connections signed in as one user (terminate_connections). */
  userPartition: (appId: string, userId: string): string => `user#${app(appId)}#${userId}`,
  userConnection: (appId: string, userId: string, connectionId: string): ItemKey =>
    key(stateKeys.userPartition(appId, userId), connectionId),
  /**
   * What the webhook sender last recorded of a channel's occupancy (no `userId`) or of a user's presence on
   * it: the webhook transitions' sequence (see `recordTransition`).
   */
  webhookSubject: (appId: string, channel: string, userId?: string): ItemKey =>
    key(`webhook#${app(appId)}#${channel}`, userId === undefined ? 'occupancy' : `${MEMBER_PREFIX}${userId}`),
  /** A slot's shard of sweep entries: the connections the sweeper asks API Gateway about (see `SweepPlan`). */
  sweepPartition: (slot: number, shard: number): string => `sweep#${slot}#${shard}`,
  /** A cache channel's last event, or when its last `cache_miss` webhook was raised (see `channel-cache.ts`). */
  channelCache: (appId: string, channel: string): ItemKey => key(`cache#${app(appId)}#${channel}`, 'last'),
  /** The app's MaxConnections counter. */
  connectionCounter: (appId: string): ItemKey => key(`connections#${app(appId)}`, 'counter'),
} as const;
