import { SQSClient } from '@aws-sdk/client-sqs';
import { DEFAULT_SERVICE_NAME } from '../observability/logger.js';
import { CounterMetrics } from '../observability/metrics.js';
import { flushOutbox, WebhookOutbox } from '../webhooks/outbox.js';
import { sqsQueue } from '../webhooks/queue.js';
import type { GatewayContext } from './context.js';
import type { StateRuntime } from './state-runtime.js';

/** Runs one invocation's work with a webhook outbox of its own, and enqueues what it raised once, at its end. */
export type WithWebhooks = <Context extends GatewayContext, Result>(
  context: Context,
  work: (context: Context) => Promise<Result>,
) => Promise<Result>;

/** Work run as it is, with no outbox: where no webhook queue is configured. */
export const NO_WEBHOOKS: WithWebhooks = (context, work) => work(context);

/**
 * Built once per container by the Lambdas whose work raises webhook events (`$default`, `$disconnect`, the
 * publishing and terminate routes, the fan-out worker), from `WEBHOOK_QUEUE_URL`; without it, work runs with
 * no outbox. Only these Lambdas bundle the SQS client. The enqueue is one `SendMessageBatch` after the work
 * (more only past 10 messages or 256 KiB); it never fails the work (see `flushOutbox`).
 */
export function webhookInvocations(runtime: StateRuntime): WithWebhooks {
  const url = runtime.config.webhookQueueUrl;
  if (url === undefined) return NO_WEBHOOKS;
  // Bounded so that `$default` can keep time for it after its answer (see `ANSWER_RESERVE_MS`): at most two
  // tries of 1.5 s each and the SDK's backoff between them.
  const client = new SQSClient({
    region: runtime.config.region,
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 500, requestTimeout: 1_000, throwOnRequestTimeout: true },
  });
  const queue = sqsQueue(client, url);
  // Rare by nature: one metrics line per loss, carrying the running total (see CounterMetrics).
  const metrics = new CounterMetrics(DEFAULT_SERVICE_NAME);
  let lost = 0;
  const countLost = (messages: number) => {
    lost += messages;
    metrics.publish({ WebhookMessagesNotEnqueued: lost }, {}, Date.now());
  };
  return async (context, work) => {
    const outbox = new WebhookOutbox(context.now);
    try {
      return await work({ ...context, webhooks: outbox });
    } finally {
      // What was raised happened, whether or not the rest of the work failed.
      await flushOutbox(outbox, queue, context.logger, countLost);
      // Work that outlives its answer (see `withinDeadline`) may still raise: sent as it comes, best effort.
      outbox.sendLaterRaisesWith(() => void flushOutbox(outbox, queue, context.logger, countLost));
    }
  };
}
