import { type App, WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../apps/app.js';

/**
 * The event types any of an app's webhooks asks for. The hot paths raise only these, so an app without
 * webhooks (or without the type) costs no queue message. The sender still applies each webhook's own types
 * and filter.
 */
export type WebhookInterest = ReadonlySet<WebhookEventType>;

export const NO_INTEREST: WebhookInterest = new Set();

const interests = new WeakMap<App, WebhookInterest>();

/** Computed once per parsed app (apps are cached and shared read-only). */
export function interestOf(app: App): WebhookInterest {
  let interest = interests.get(app);
  if (interest === undefined) {
    interest =
      app.webhooks.length === 0
        ? NO_INTEREST
        : new Set(app.webhooks.flatMap((webhook) => webhook.eventTypes));
    interests.set(app, interest);
  }
  return interest;
}

/**
 * The interest as the `$connect` authorizer context and the connection record carry it (`$disconnect` reads
 * no app): the event types, comma-separated; empty for none.
 */
export function encodeInterest(interest: WebhookInterest): string {
  return WEBHOOK_EVENT_TYPES.filter((type) => interest.has(type)).join(',');
}

/** Unknown names are ignored: an older or newer deployment may have written the value. */
export function decodeInterest(encoded: string | undefined): WebhookInterest {
  if (encoded === undefined || encoded === '') return NO_INTEREST;
  const known = new Set<string>(WEBHOOK_EVENT_TYPES);
  return new Set(encoded.split(',').filter((type): type is WebhookEventType => known.has(type)));
}
