import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createGatewayRuntime } from '../src/gateway/runtime.js';
import { webhookInvocations } from '../src/gateway/webhook-runtime.js';
import { lambdaContextLogging } from '../src/observability/logger.js';
import { failedJobsFromEnv } from '../src/publish/fan-out-config.js';
import { fanOutRecords } from '../src/publish/fan-out-worker.js';

const runtime = createGatewayRuntime('pusher-fan-out-worker');
const context = runtime.configuredContext('the fan-out worker');
const withWebhooks = webhookInvocations(runtime);
const failed = failedJobsFromEnv(process.env, runtime.config.region);

/** The fan-out queue's event source: lanes of large channels' fan-outs, and cleanups, in order. */
export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(lambdaContextLogging(runtime.logger))
  .handler((event, lambda) =>
    withWebhooks(context, (invocation) =>
      fanOutRecords(invocation, event, { failed, remainingMs: () => lambda.getRemainingTimeInMillis() }),
    ),
  );
