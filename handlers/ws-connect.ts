import middy from '@middy/core';
import { loadSweepPlan } from '../src/gateway/config.js';
import type { WsProxyEvent } from '../src/gateway/events.js';
import { createStateRuntime } from '../src/gateway/state-runtime.js';
import { lambdaContextLogging } from '../src/observability/logger.js';
import { type ConnectResult, connect } from '../src/websocket/connect.js';
import { configuredGreeterInvoker } from '../src/websocket/greeter.js';

// `$connect` never posts (the greeter does) and reads no app (the authorizer context carries it).
const runtime = createStateRuntime('pusher-ws-connect');
const deps = {
  state: runtime.state,
  greeter: configuredGreeterInvoker(runtime.config),
  logger: runtime.logger,
  now: () => Date.now(),
  sweep: loadSweepPlan(),
};

/** WebSocket `$connect` route, behind the `$connect` authorizer. */
export const handler = middy<WsProxyEvent, ConnectResult>()
  .use(lambdaContextLogging(runtime.logger))
  .handler((event) => connect(deps, event));
