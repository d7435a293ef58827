import middy from '@middy/core';
import { ConfigError } from '../src/errors/errors.js';
import { createGatewayRuntime } from '../src/gateway/runtime.js';
import { lambdaContextLogging } from '../src/observability/logger.js';
import { fanOutInvocation } from '../src/publish/fan-out-worker.js';

const runtime = createGatewayRuntime('pusher-fan-out-worker');
const endpoint = runtime.config.connectionsEndpoint;
if (endpoint === undefined) throw new ConfigError('WEBSOCKET_API_ENDPOINT', 'required by the fan-out worker');
const context = runtime.contextAt(endpoint);

/** Invoked asynchronously by the publishing routes with one share of a large channel's fan-out. */
export const handler = middy<unknown, 'done' | 'invalid' | 'failed'>()
  .use(lambdaContextLogging(runtime.logger))
  .handler((payload) => fanOutInvocation(context, payload));
