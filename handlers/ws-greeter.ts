import middy from '@middy/core';
import { createGatewayRuntime } from '../src/gateway/runtime.js';
import { lambdaContextLogging } from '../src/observability/logger.js';
import { type GreetingOutcome, greetInvocation } from '../src/websocket/greeter.js';

const runtime = createGatewayRuntime('pusher-ws-greeter');

/** Invoked asynchronously by `$connect` with a `GreetingRequest`; never throws (see `greetInvocation`). */
export const handler = middy<unknown, GreetingOutcome | 'invalid' | 'failed'>()
  .use(lambdaContextLogging(runtime.logger))
  .handler((payload) =>
    greetInvocation(
      { logger: runtime.logger, contextFor: (request) => runtime.contextAt(runtime.endpointOf(request)) },
      payload,
    ),
  );
