/**
 * One event of a webhook body, in Pusher's wire shape. `user_id`, `socket_id` and client-event `data` are
 * strings whatever the client sent (pusher-http-go decodes them as strings); `user_id` appears on client
 * events of presence channels only.
 */
export type WebhookEvent =
  | { readonly name: 'channel_occupied'; readonly channel: string }
  | { readonly name: 'channel_vacated'; readonly channel: string }
  | { readonly name: 'cache_miss'; readonly channel: string }
  | { readonly name: 'member_added' | 'member_removed'; readonly channel: string; readonly user_id: string }
  | {
      readonly name: 'client_event';
      readonly channel: string;
      readonly event: string;
      readonly data: string;
      readonly socket_id: string;
      readonly user_id?: string;
    }
  | { readonly name: 'subscription_count'; readonly channel: string; readonly subscription_count: number };

/** The events that say a channel (or a user on it) came or went: sequenced, never sent twice in a row. */
export type TransitionEvent = Extract<
  WebhookEvent,
  { name: 'channel_occupied' | 'channel_vacated' | 'member_added' | 'member_removed' }
>;

/**
 * How long a departure waits before it is sent, as Pusher does: a channel occupied again (a user back) within
 * this time sends neither the departure nor the second arrival.
 */
export const DEPARTURE_DELAY_SECONDS = 3;

export const channelOccupied = (channel: string): WebhookEvent => ({ name: 'channel_occupied', channel });
export const channelVacated = (channel: string): WebhookEvent => ({ name: 'channel_vacated', channel });
export const memberAdded = (channel: string, userId: string): WebhookEvent => ({
  name: 'member_added',
  channel,
  user_id: userId,
});
export const memberRemoved = (channel: string, userId: string): WebhookEvent => ({
  name: 'member_removed',
  channel,
  user_id: userId,
});

/** A client event as a webhook reports it: an object `data` JSON-encoded, a string passed through. */
export function clientEventWebhook(
  channel: string,
  event: string,
  data: unknown,
  socketId: string,
  userId: string | undefined,
): WebhookEvent {
  const text = typeof data === 'string' ? data : JSON.stringify(data ?? null);
  return userId === undefined
    ? { name: 'client_event', channel, event, data: text, socket_id: socketId }
    : { name: 'client_event', channel, event, data: text, socket_id: socketId, user_id: userId };
}

export function isTransition(event: WebhookEvent): event is TransitionEvent {
  return (
    event.name === 'channel_occupied' ||
    event.name === 'channel_vacated' ||
    event.name === 'member_added' ||
    event.name === 'member_removed'
  );
}

/** Departures wait `DEPARTURE_DELAY_SECONDS` in the queue; everything else goes at once. */
export function isDeparture(event: WebhookEvent): boolean {
  return event.name === 'channel_vacated' || event.name === 'member_removed';
}
