import middy from '@middy/core';
import { createGatewayRuntime } from '../src/gateway/runtime.js';
import { webhookInvocations } from '../src/gateway/webhook-runtime.js';
import { lambdaContextLogging } from '../src/observability/logger.js';
import { fanOutDispatcherFromEnv } from '../src/publish/fan-out-config.js';
import { fanOutInvocation } from '../src/publish/fan-out-worker.js';

const runtime = createGatewayRuntime('pusher-fan-out-worker');
const context = runtime.configuredContext('the fan-out worker');
const withWebhooks = webhookInvocations(runtime);
const dispatcher = fanOutDispatcherFromEnv(process.env, runtime.config.region);

/** Invoked asynchronously by the publishing routes, and by itself, with one share of a large channel's fan-out. */
export const handler = middy<unknown, 'done' | 'invalid'>()
  .use(lambdaContextLogging(runtime.logger))
  .handler((payload, lambda) =>
    withWebhooks(context, (invocation) =>
      fanOutInvocation(invocation, payload, { dispatcher, remainingMs: lambda.getRemainingTimeInMillis() }),
    ),
  );
