import type { WebhookEvent } from './events.js';

/**
 * What the webhook queue carries. Never a secret: the sender resolves the app by id and signs each body
 * itself, so a rotated secret signs even a retry.
 * - `raised`: the events of one operation of one app (`timeMs`, when they happened, becomes the body's
 *   `time_ms`); transitions among them are sequenced by the sender.
 * - `retry`: one webhook's body that failed, to be sent again as it was (same `time_ms`, same events).
 */
export type WebhookMessage =
  | {
      readonly v: 1;
      readonly type: 'raised';
      readonly appId: string;
      readonly timeMs: number;
      readonly events: readonly RaisedEvent[];
    }
  | {
      readonly v: 1;
      readonly type: 'retry';
      readonly appId: string;
      /** `webhookId` of the app's webhook (index and fingerprint). */
      readonly webhook: string;
      readonly timeMs: number;
      readonly events: readonly WebhookEvent[];
      /** Attempts made so far. */
      readonly attempts: number;
    };

/**
 * An event as the hot path raised it, with when: `at` orders the transitions of one channel (or user) across
 * invocations. Milliseconds times 1000 plus the raise's place in its invocation, so that two transitions of
 * one operation (a subscribe taken back) keep their order within the same millisecond.
 */
export interface RaisedEvent {
  readonly event: WebhookEvent;
  readonly at: number;
}

/** What the sender writes to the dead-letter queue: enough to replay (the app and webhook by id), no secret. */
export interface DeadLetter {
  readonly v: 1;
  readonly type: 'dead-letter';
  readonly reason: string;
  readonly appId: string;
  readonly webhook: string;
  /** `url` or `lambda_function` target, by kind and host or function name (a URL's query may be a credential). */
  readonly target: string;
  readonly timeMs: number;
  readonly events: readonly WebhookEvent[];
  readonly attempts: number;
}

export function parseWebhookMessage(body: string): WebhookMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const message = value as Record<string, unknown>;
  if (message.v !== 1 || typeof message.appId !== 'string' || typeof message.timeMs !== 'number') {
    return undefined;
  }
  if (!Array.isArray(message.events)) return undefined;
  if (message.type === 'raised') {
    return message.events.every(isRaisedEvent) ? (message as WebhookMessage) : undefined;
  }
  if (
    message.type === 'retry' &&
    typeof message.webhook === 'string' &&
    typeof message.attempts === 'number'
  ) {
    return message.events.every(isWebhookEvent) ? (message as WebhookMessage) : undefined;
  }
  return undefined;
}

function isRaisedEvent(value: unknown): value is RaisedEvent {
  if (typeof value !== 'object' || value === null) return false;
  const { event, at } = value as Record<string, unknown>;
  return typeof at === 'number' && isWebhookEvent(event);
}

function isWebhookEvent(value: unknown): value is WebhookEvent {
  if (typeof value !== 'object' || value === null) return false;
  const { name, channel } = value as Record<string, unknown>;
  return typeof name === 'string' && typeof channel === 'string';
}
