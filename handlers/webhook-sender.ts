import middy from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { lambdaContextLogging } from '../src/observability/logger.js';
import { createWebhookSenderRuntime } from '../src/webhooks/runtime.js';

const runtime = createWebhookSenderRuntime('pusher-webhook-sender');

/** Consumes the webhook queue (SQS event source, `ReportBatchItemFailures`): sends, retries, dead-letters. */
export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(lambdaContextLogging(runtime.logger))
  .use(sqsPartialBatchFailure({ logger: runtime.logReturned }))
  // The middleware turns the settled result of each record into `{ batchItemFailures }`.
  .handler((event) => runtime.send(event.Records) as unknown as Promise<SQSBatchResponse>);
