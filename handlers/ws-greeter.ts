import middy from '@middy/core';
import { type GreetingOutcome, greet, parseGreetingRequest } from '../src/gateway/greeter.js';
import { createGatewayRuntime } from '../src/gateway/runtime.js';
import { lambdaContextLogging } from '../src/observability/logger.js';

const runtime = createGatewayRuntime('pusher-ws-greeter');

/**
 * Invoked asynchronously by `$connect` with a `GreetingRequest`. It never throws: Lambda would retry a
 * failed asynchronous invocation a minute later, long after pusher-js gave up waiting.
 */
export const handler = middy<unknown, GreetingOutcome | 'invalid' | 'failed'>()
  .use(lambdaContextLogging(runtime.logger))
  .handler(async (payload) => {
    const request = parseGreetingRequest(payload);
    if (request === undefined) {
      runtime.logger.error('invalid greeting request', { payload: JSON.stringify(payload)?.slice(0, 500) });
      return 'invalid';
    }
    try {
      const outcome = await greet(runtime.contextAt(runtime.endpointOf(request)), request);
      runtime.logger.info('greeting', {
        connectionId: request.connectionId,
        refusal: request.refusal,
        outcome,
      });
      return outcome;
    } catch (error) {
      runtime.logger.error('greeting failed', { connectionId: request.connectionId, error: String(error) });
      return 'failed';
    }
  });
