import type { Logger } from '@aws-lambda-powertools/logger';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { createAppResolver } from '../apps/resolver.js';
import { loadConfig } from '../config/config.js';
import { ConfigError } from '../errors/errors.js';
import { everyInterval } from '../observability/interval.js';
import { createLogger } from '../observability/logger.js';
import { CounterMetrics } from '../observability/metrics.js';
import { createStateTableClient } from '../state/table.js';
import { loadWebhookSenderConfig } from './config.js';
import { createDelivery } from './delivery.js';
import { sqsQueue } from './queue.js';
import { type SenderCounts, type SenderDeps, sendWebhooks } from './sender.js';

/** The webhook sender Lambda, built once per container: what `handlers/webhook-sender.ts` wires. */
export interface WebhookSenderRuntime {
  readonly logger: Logger;
  /** One SQS batch sent: a settled result per record, for `@middy/sqs-partial-batch-failure`. */
  send(records: readonly SQSRecord[]): Promise<PromiseSettledResult<void>[]>;
  /** What the partial-batch middleware logs of a record that goes back to the queue: never its body. */
  logReturned(reason: unknown, record: SQSRecord): void;
}

export function createWebhookSenderRuntime(
  serviceName: string,
  env: NodeJS.ProcessEnv = process.env,
): WebhookSenderRuntime {
  const base = loadConfig(env);
  const config = loadWebhookSenderConfig(env);
  if (base.stateTable === undefined) throw new ConfigError('STATE_TABLE', 'required by the webhook sender');
  const region = env.AWS_REGION?.trim() || base.appStore.region;
  const logger = createLogger(serviceName);
  const sqs = new SQSClient({
    region,
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000, throwOnRequestTimeout: true },
  });
  const counts: SenderCounts = { delivered: 0, retried: 0, deadLettered: 0, suppressed: 0 };
  const deps: SenderDeps = {
    apps: createAppResolver({ config: base, logger }),
    state: { client: createStateTableClient(base.appStore, region), tableName: base.stateTable },
    retries: sqsQueue(sqs, config.queueUrl),
    deadLetters: sqsQueue(sqs, config.deadLetterQueueUrl),
    deliver: createDelivery(config),
    logger,
    now: () => Date.now(),
    config,
    counts,
  };
  const metrics = new CounterMetrics(serviceName);
  const metricsDue = everyInterval(60_000);
  return {
    logger,
    async send(records) {
      const results = await sendWebhooks(deps, records);
      const at = metricsDue();
      if (at !== undefined) {
        metrics.publish(
          {
            WebhooksDelivered: counts.delivered,
            WebhooksRetried: counts.retried,
            WebhooksDeadLettered: counts.deadLettered,
            WebhookTransitionsSuppressed: counts.suppressed,
          },
          {},
          at,
        );
      }
      return results;
    },
    logReturned(reason, record) {
      logger.error('webhook message returned to the queue', {
        messageId: record.messageId,
        error: String(reason),
      });
    },
  };
}
