import middy from '@middy/core';
import { createAppResolver } from '../src/apps/resolver.js';
import { type ConnectResult, connect } from '../src/gateway/connect.js';
import type { WsProxyEvent } from '../src/gateway/events.js';
import { configuredGreeterInvoker } from '../src/gateway/greeter.js';
import { createGatewayRuntime } from '../src/gateway/runtime.js';
import { lambdaContextLogging } from '../src/observability/logger.js';

const runtime = createGatewayRuntime('pusher-ws-connect');
const deps = {
  state: runtime.state,
  resolver: createAppResolver({ config: runtime.config.base, logger: runtime.logger }),
  greeter: configuredGreeterInvoker(runtime.config),
  logger: runtime.logger,
  now: () => Date.now(),
};

/** WebSocket `$connect` route, behind the `$connect` authorizer. */
export const handler = middy<WsProxyEvent, ConnectResult>()
  .use(lambdaContextLogging(runtime.logger))
  .handler((event) => connect(deps, event));
