import { createHash } from 'node:crypto';
import type { App, Webhook } from '../apps/app.js';
import { signWebhook } from '../protocol/webhook-signature.js';
import type { SignedBody } from './delivery.js';
import type { WebhookEvent } from './events.js';

/** Events per body with batching on (sockudo's and soketi's ceiling). */
export const MAX_EVENTS_PER_BODY = 100;

/** Whether a webhook wants an event: its type listed, and its channel through the filter (both parts AND-ed). */
export function wants(webhook: Webhook, event: WebhookEvent): boolean {
  if (!webhook.eventTypes.includes(event.name)) return false;
  const { channelNameStartsWith, channelNameEndsWith } = webhook.filter ?? {};
  if (channelNameStartsWith !== undefined && !event.channel.startsWith(channelNameStartsWith)) return false;
  if (channelNameEndsWith !== undefined && !event.channel.endsWith(channelNameEndsWith)) return false;
  return true;
}

/** One body to send: Pusher's `{time_ms, events}`, for one webhook of one app. */
export interface WebhookBody {
  readonly timeMs: number;
  readonly events: readonly WebhookEvent[];
}

/**
 * A webhook's bodies from the events raised, in the order given: each event alone, or with batching up to
 * `MAX_EVENTS_PER_BODY` per body, stamped with the oldest `time_ms` among them. Only the webhook's own events
 * go in, so its signature covers exactly what it asked for. Each body comes with the items it holds.
 */
export function bodiesFor<Item extends { readonly timeMs: number; readonly event: WebhookEvent }>(
  webhook: Webhook,
  raised: readonly Item[],
  batching: boolean,
): { readonly body: WebhookBody; readonly items: readonly Item[] }[] {
  const wanted = raised.filter(({ event }) => wants(webhook, event));
  const size = batching ? MAX_EVENTS_PER_BODY : 1;
  const bodies: { body: WebhookBody; items: Item[] }[] = [];
  for (let start = 0; start < wanted.length; start += size) {
    const items = wanted.slice(start, start + size);
    const timeMs = Math.min(...items.map((item) => item.timeMs));
    bodies.push({ body: { timeMs, events: items.map((item) => item.event) }, items });
  }
  return bodies;
}

/** Headers a webhook's own `headers` can never set: the ones that make the request Pusher's. */
const RESERVED_HEADERS = new Set([
  'content-type',
  'content-length',
  'host',
  'x-pusher-key',
  'x-pusher-signature',
]);

/**
 * The exact bytes of a body and its headers: `Content-Type: application/json` (exactly: pusher-http-node
 * parses nothing else), `X-Pusher-Key`, and `X-Pusher-Signature` over those bytes with the app's secret.
 */
export function signedBody(app: App, webhook: Webhook, body: WebhookBody): SignedBody {
  const text = JSON.stringify({ time_ms: body.timeMs, events: body.events });
  const headers: Record<string, string> = { 'User-Agent': 'pusher-lambda-authorizer-webhooks' };
  for (const [name, value] of Object.entries(webhook.headers ?? {})) {
    if (!RESERVED_HEADERS.has(name.toLowerCase())) headers[name] = value;
  }
  headers['Content-Type'] = 'application/json';
  headers['X-Pusher-Key'] = app.key;
  headers['X-Pusher-Signature'] = signWebhook(text, app.secret);
  return { body: text, headers };
}

/**
 * A webhook's identity across retries: its place in the app's list and a digest of what it is (target, types,
 * filter; not the headers, which may hold credentials and may change), so that an edited list is noticed.
 */
export function webhookIdOf(webhook: Webhook, index: number): string {
  const what = JSON.stringify([webhook.url, webhook.lambdaFunction, webhook.eventTypes, webhook.filter]);
  return `${index}:${createHash('sha256').update(what).digest('hex').slice(0, 16)}`;
}

/** The webhook a retry names, if the app still has it (at its place, or moved). */
export function webhookById(
  app: App,
  id: string,
): { readonly webhook: Webhook; readonly index: number } | undefined {
  const [place, digest] = id.split(':');
  const index = Number(place);
  const at = app.webhooks[index];
  if (at !== undefined && webhookIdOf(at, index) === id) return { webhook: at, index };
  const moved = app.webhooks.findIndex((webhook, i) => webhookIdOf(webhook, i).endsWith(`:${digest}`));
  return moved === -1 ? undefined : { webhook: app.webhooks[moved]!, index: moved };
}

/** A webhook's target as logs and dead letters name it: a URL's origin only (its path or query may be secret). */
export function targetOf(webhook: Webhook): string {
  if (webhook.lambdaFunction !== undefined) return `lambda:${webhook.lambdaFunction}`;
  try {
    return `url:${new URL(webhook.url ?? '').origin}`;
  } catch {
    return 'url:?';
  }
}
