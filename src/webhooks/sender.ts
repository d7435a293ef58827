import type { App, Webhook } from '../apps/app.js';
import type { StructuredLogger } from '../observability/logger.js';
import type { StateTable } from '../state/table.js';
import { recordTransition } from '../state/webhook-transitions.js';
import { bodiesFor, signedBody, targetOf, type WebhookBody, webhookById, webhookIdOf } from './bodies.js';
import type { WebhookSenderConfig } from './config.js';
import type { Deliver } from './delivery.js';
import { isTransition, type TransitionEvent, type WebhookEvent } from './events.js';
import { type DeadLetter, parseWebhookMessage, type WebhookMessage } from './messages.js';
import type { QueueEntry, WebhookQueue } from './queue.js';
import { nextAttemptDelay } from './retry.js';

/** One SQS record as the sender reads it. */
export interface QueueRecord {
  readonly messageId: string;
  readonly body: string;
}

/** What the sender works with; every part injected, built once per container (see the handler). */
export interface SenderDeps {
  readonly apps: { byId(id: string): Promise<App | undefined> };
  readonly state: StateTable;
  /** The webhook queue itself: retries go back into it with a delay. */
  readonly retries: WebhookQueue;
  readonly deadLetters: WebhookQueue;
  readonly deliver: Deliver;
  readonly logger: StructuredLogger;
  readonly now: () => number;
  readonly config: Pick<WebhookSenderConfig, 'batching' | 'retryBudgetMs'>;
  readonly random?: () => number;
  /** Running totals, for the metrics line (see `SenderCounts`). */
  readonly counts?: SenderCounts;
}

export interface SenderCounts {
  delivered: number;
  retried: number;
  deadLettered: number;
  suppressed: number;
}

/** Bodies posted at once per invocation. */
const DELIVERY_CONCURRENCY = 10;

interface Parsed {
  readonly index: number;
  readonly message: WebhookMessage;
}

/**
 * Sends the webhooks of one batch of queue records, and says of each record whether it is done (fulfilled)
 * or must come back (rejected: SQS delivers it again; after `maxReceiveCount` its redrive policy moves it to
 * the dead-letter queue). Retries of a failed body are not left to SQS: they are enqueued anew with their
 * delay and attempt count, and a body past its budget or refused for good is written to the dead-letter queue
 * with its reason. A record is rejected only when its app could not be read, its transitions not recorded, or
 * its retries and dead letters not enqueued.
 */
export async function sendWebhooks(
  deps: SenderDeps,
  records: readonly QueueRecord[],
): Promise<PromiseSettledResult<void>[]> {
  const failures = new Map<number, Error>();
  const byApp = new Map<string, Parsed[]>();
  records.forEach((record, index) => {
    const message = parseWebhookMessage(record.body);
    if (message === undefined) {
      deps.logger.error('unreadable webhook message dropped', {
        messageId: record.messageId,
        bytes: record.body.length,
      });
      return;
    }
    const group = byApp.get(message.appId) ?? [];
    group.push({ index, message });
    byApp.set(message.appId, group);
  });
  await Promise.all(
    [...byApp].map(async ([appId, group]) => {
      try {
        await sendForApp(deps, appId, group, failures);
      } catch (error) {
        for (const { index } of group) failures.set(index, error as Error);
      }
    }),
  );
  return records.map((_record, index) => {
    const reason = failures.get(index);
    return reason === undefined ? { status: 'fulfilled', value: undefined } : { status: 'rejected', reason };
  });
}

interface Delivery {
  readonly webhook: Webhook;
  readonly webhookId: string;
  readonly body: WebhookBody;
  /** Attempts made before this one. */
  readonly attempts: number;
  readonly sources: readonly number[];
}

async function sendForApp(
  deps: SenderDeps,
  appId: string,
  group: readonly Parsed[],
  failures: Map<number, Error>,
): Promise<void> {
  const app = await deps.apps.byId(appId);
  if (app === undefined || !app.enabled) {
    deps.logger.info('webhooks dropped: app gone or disabled', { appId, messages: group.length });
    return;
  }
  const deliveries: Delivery[] = [];
  const raised: { timeMs: number; at: number; event: WebhookEvent; source: number }[] = [];
  for (const { index, message } of group) {
    if (message.type === 'retry') {
      const found = webhookById(app, message.webhook);
      if (found === undefined) {
        deps.logger.info('webhook retry dropped: the app no longer has the webhook', { appId });
        continue;
      }
      const { timeMs, events, attempts } = message;
      deliveries.push({
        ...found,
        webhookId: message.webhook,
        body: { timeMs, events },
        attempts,
        sources: [index],
      });
      continue;
    }
    try {
      for (const { event, at } of message.events) {
        if (isTransition(event) && !(await isSent(deps, appId, event, at))) continue;
        raised.push({ timeMs: message.timeMs, at, event, source: index });
      }
    } catch (error) {
      failures.set(index, error as Error);
    }
  }
  raised.sort((a, b) => a.at - b.at);
  app.webhooks.forEach((webhook, index) => {
    for (const { body, items } of bodiesFor(webhook, raised, deps.config.batching)) {
      const sources = [...new Set(items.map((item) => item.source))];
      deliveries.push({ webhook, webhookId: webhookIdOf(webhook, index), body, attempts: 0, sources });
    }
  });
  await settle(deps, app, deliveries, failures);
}

/** Whether a transition is sent (see `recordTransition`); a suppressed one is counted. */
async function isSent(deps: SenderDeps, appId: string, event: TransitionEvent, at: number): Promise<boolean> {
  const present = event.name === 'channel_occupied' || event.name === 'member_added';
  const subject =
    'user_id' in event ? { channel: event.channel, userId: event.user_id } : { channel: event.channel };
  const decision = await recordTransition(
    deps.state,
    appId,
    subject,
    present ? 'present' : 'absent',
    at,
    deps.now(),
  );
  if (decision !== 'send' && deps.counts) deps.counts.suppressed++;
  return decision === 'send';
}

/** Attempts every delivery, then enqueues the retries and dead letters they call for. */
async function settle(
  deps: SenderDeps,
  app: App,
  deliveries: readonly Delivery[],
  failures: Map<number, Error>,
): Promise<void> {
  const retries: { entry: QueueEntry; sources: readonly number[] }[] = [];
  const deadLetters: { entry: QueueEntry; sources: readonly number[] }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < deliveries.length) {
      const delivery = deliveries[next++]!;
      const outcome = await deps.deliver(delivery.webhook, signedBody(app, delivery.webhook, delivery.body));
      const attempts = delivery.attempts + 1;
      const target = targetOf(delivery.webhook);
      const events = delivery.body.events.length;
      if (outcome.kind === 'delivered') {
        if (deps.counts) deps.counts.delivered++;
        deps.logger.info('webhook delivered', { appId: app.id, target, events, attempts });
        continue;
      }
      const delay =
        outcome.kind === 'retry'
          ? nextAttemptDelay(
              attempts,
              delivery.body.timeMs,
              deps.config.retryBudgetMs,
              deps.now(),
              deps.random,
            )
          : undefined;
      if (delay !== undefined) {
        if (deps.counts) deps.counts.retried++;
        deps.logger.warn('webhook attempt failed; retrying', {
          appId: app.id,
          target,
          attempts,
          reason: outcome.reason,
          inSeconds: delay,
        });
        const message: WebhookMessage = {
          v: 1,
          type: 'retry',
          appId: app.id,
          webhook: delivery.webhookId,
          timeMs: delivery.body.timeMs,
          events: delivery.body.events,
          attempts,
        };
        retries.push({
          entry: { body: JSON.stringify(message), delaySeconds: delay },
          sources: delivery.sources,
        });
        continue;
      }
      const reason =
        outcome.kind === 'retry'
          ? `retry budget exhausted after ${attempts} attempts (last: ${outcome.reason})`
          : outcome.reason;
      if (deps.counts) deps.counts.deadLettered++;
      deps.logger.error('webhook dead-lettered', { appId: app.id, target, attempts, reason });
      const letter: DeadLetter = {
        v: 1,
        type: 'dead-letter',
        reason,
        appId: app.id,
        webhook: delivery.webhookId,
        target,
        timeMs: delivery.body.timeMs,
        events: delivery.body.events,
        attempts,
      };
      deadLetters.push({ entry: { body: JSON.stringify(letter) }, sources: delivery.sources });
    }
  };
  await Promise.all(Array.from({ length: Math.min(DELIVERY_CONCURRENCY, deliveries.length) }, worker));
  await enqueue(deps.retries, retries, failures, deps.logger);
  await enqueue(deps.deadLetters, deadLetters, failures, deps.logger);
}

/** Enqueues entries; when that fails, the records they came from are rejected, so SQS delivers them again. */
async function enqueue(
  queue: WebhookQueue,
  entries: readonly { entry: QueueEntry; sources: readonly number[] }[],
  failures: Map<number, Error>,
  logger: StructuredLogger,
): Promise<void> {
  if (entries.length === 0) return;
  let failure: Error | undefined;
  try {
    const { failed } = await queue.send(entries.map(({ entry }) => entry));
    if (failed > 0) failure = new Error(`${failed} of ${entries.length} messages not enqueued`);
  } catch (error) {
    failure = error as Error;
  }
  if (failure === undefined) return;
  logger.error('webhook retries or dead letters not enqueued', {
    messages: entries.length,
    error: String(failure),
  });
  for (const { sources } of entries) for (const source of sources) failures.set(source, failure);
}
