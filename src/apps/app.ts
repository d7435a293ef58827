/**
 * The app model every other module works with. Parsed once from a DynamoDB item
 * (see `parse-item.ts`), then shared read-only from the cache.
 *
 * Limits use one convention everywhere: `Number.POSITIVE_INFINITY` means unlimited,
 * `0` means nothing is allowed. (soketi gave -1 and 0 a different meaning per field.)
 */
export const UNLIMITED = Number.POSITIVE_INFINITY;

export type WebhookEventType =
  | 'channel_occupied'
  | 'channel_vacated'
  | 'member_added'
  | 'member_removed'
  | 'client_event'
  | 'cache_miss'
  | 'subscription_count';

// A Record keyed by the union makes the compiler check that every event type is listed.
const EVENT_TYPES: Record<WebhookEventType, true> = {
  channel_occupied: true,
  channel_vacated: true,
  member_added: true,
  member_removed: true,
  client_event: true,
  cache_miss: true,
  subscription_count: true,
};

/** Every event type a webhook may name, in one fixed order. */
export const WEBHOOK_EVENT_TYPES = Object.freeze(Object.keys(EVENT_TYPES) as WebhookEventType[]);

export interface WebhookFilter {
  readonly channelNameStartsWith?: string;
  readonly channelNameEndsWith?: string;
}

export interface LambdaWebhookOptions {
  readonly async?: boolean;
  readonly region?: string;
  /**
   * soketi's `client_options`: only `endpoint` is read (where the stage allows it); credentials or other SDK
   * options stored in a table are never used.
   */
  readonly clientOptions?: { readonly endpoint?: string };
}

/** One entry of the `Webhooks` JSON. Exactly one of `url` and `lambdaFunction` is set. */
export interface Webhook {
  readonly url?: string;
  readonly lambdaFunction?: string;
  readonly lambda?: LambdaWebhookOptions;
  /** A top-level `region`, as soketi's docs show it (its code ignores it): the Lambda target's region. */
  readonly region?: string;
  readonly eventTypes: readonly WebhookEventType[];
  readonly filter?: WebhookFilter;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface App {
  readonly id: string;
  readonly key: string;
  readonly secret: string;
  readonly enabled: boolean;
  readonly enableClientMessages: boolean;
  readonly enableUserAuthentication: boolean;
  readonly maxConnections: number;
  readonly maxBackendEventsPerSecond: number;
  readonly maxClientEventsPerSecond: number;
  readonly maxReadRequestsPerSecond: number;
  readonly maxPresenceMembersPerChannel: number;
  readonly maxPresenceMemberSizeInKb: number;
  readonly maxChannelNameLength: number;
  readonly maxEventChannelsAtOnce: number;
  readonly maxEventNameLength: number;
  readonly maxEventPayloadInKb: number;
  readonly maxEventBatchSize: number;
  readonly webhooks: readonly Webhook[];
}
