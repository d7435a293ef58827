import type { StructuredLogger } from '../observability/logger.js';
import { SERVER_TO_USER_PREFIX } from '../protocol/validation.js';
import { DEPARTURE_DELAY_SECONDS, isDeparture, type WebhookEvent } from './events.js';
import type { WebhookInterest } from './interest.js';
import type { RaisedEvent, WebhookMessage } from './messages.js';
import { packed, type QueueEntry, type WebhookQueue } from './queue.js';

/** What the hot paths raise webhook events through: events of types the app has no webhook for are dropped. */
export interface WebhookRaiser {
  raise(appId: string, interest: WebhookInterest, event: WebhookEvent): void;
}

/** Bytes of events per queue message: under SQS's 256 KiB with room for the envelope. */
const MESSAGE_BYTES = 200 * 1024;

/**
 * The webhook events of one invocation, collected while it runs and enqueued once at its end: one message
 * per app for what goes at once and one for departures (which wait `DEPARTURE_DELAY_SECONDS`), more only past
 * the size of a message. Never shared between invocations.
 */
export class WebhookOutbox implements WebhookRaiser {
  private readonly raised = new Map<string, { timeMs: number; now: RaisedEvent[]; later: RaisedEvent[] }>();
  private count = 0;
  private afterward: (() => void) | undefined;
  private afterwardDue = false;

  constructor(private readonly clock: () => number) {}

  /**
   * Once the invocation's own enqueue is done: what is raised later (work that goes on past the answer, such
   * as a late take-back) calls `send` soon after, once per burst of raises, instead of waiting for an enqueue
   * that will not come.
   */
  sendLaterRaisesWith(send: () => void): void {
    this.afterward = send;
    if (!this.isEmpty) this.scheduleAfterward();
  }

  private scheduleAfterward(): void {
    if (this.afterward === undefined || this.afterwardDue) return;
    this.afterwardDue = true;
    queueMicrotask(() => {
      this.afterwardDue = false;
      this.afterward?.();
    });
  }

  raise(appId: string, interest: WebhookInterest, event: WebhookEvent): void {
    // `#server-to-user-` channels are the plumbing of sending to a user, not channels an app names.
    if (!interest.has(event.name) || event.channel.startsWith(SERVER_TO_USER_PREFIX)) return;
    const timeMs = this.clock();
    let app = this.raised.get(appId);
    if (app === undefined) {
      app = { timeMs, now: [], later: [] };
      this.raised.set(appId, app);
    }
    const raised = { event, at: timeMs * 1000 + (this.count++ % 1000) };
    (isDeparture(event) ? app.later : app.now).push(raised);
    this.scheduleAfterward();
  }

  get isEmpty(): boolean {
    return this.raised.size === 0;
  }

  /** The queue entries for everything raised since the last call, packed by app and by delay. */
  drain(): QueueEntry[] {
    const entries: QueueEntry[] = [];
    for (const [appId, { timeMs, now, later }] of this.raised) {
      for (const events of messagesOf(now)) entries.push({ body: raisedMessage(appId, timeMs, events) });
      for (const events of messagesOf(later)) {
        entries.push({ body: raisedMessage(appId, timeMs, events), delaySeconds: DEPARTURE_DELAY_SECONDS });
      }
    }
    this.raised.clear();
    return entries;
  }
}

/** Events in messages of at most `MESSAGE_BYTES` each. */
function messagesOf(events: readonly RaisedEvent[]): RaisedEvent[][] {
  return packed(events, (event) => Buffer.byteLength(JSON.stringify(event), 'utf8'), MESSAGE_BYTES);
}

function raisedMessage(appId: string, timeMs: number, events: readonly RaisedEvent[]): string {
  const message: WebhookMessage = { v: 1, type: 'raised', appId, timeMs, events };
  return JSON.stringify(message);
}

/**
 * Enqueues what the outbox holds. Never throws and never fails the client's operation: a queue failure is
 * logged (shapes and counts only) and handed to `onLost` with the number of messages lost, for a metric.
 */
export async function flushOutbox(
  outbox: WebhookOutbox,
  queue: WebhookQueue,
  logger: StructuredLogger,
  onLost: (messages: number) => void = () => undefined,
): Promise<void> {
  if (outbox.isEmpty) return;
  const entries = outbox.drain();
  let lost = 0;
  try {
    lost = (await queue.send(entries)).failed;
    if (lost > 0) logger.error('webhook events not enqueued', { messages: lost, of: entries.length });
  } catch (error) {
    lost = entries.length;
    logger.error('webhook events not enqueued', { messages: lost, error: String(error) });
  }
  if (lost > 0) onLost(lost);
}
