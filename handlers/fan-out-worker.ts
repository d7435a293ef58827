import middy from '@middy/core';
import { createGatewayRuntime } from '../src/gateway/runtime.js';
import { webhookInvocations } from '../src/gateway/webhook-runtime.js';
import { lambdaContextLogging } from '../src/observability/logger.js';
import { fanOutInvocation } from '../src/publish/fan-out-worker.js';

const runtime = createGatewayRuntime('pusher-fan-out-worker');
const context = runtime.configuredContext('the fan-out worker');
const withWebhooks = webhookInvocations(runtime);

/** Invoked asynchronously by the publishing routes with one share of a large channel's fan-out. */
export const handler = middy<unknown, 'done' | 'invalid' | 'failed'>()
  .use(lambdaContextLogging(runtime.logger))
  .handler((payload) => withWebhooks(context, (invocation) => fanOutInvocation(invocation, payload)));
