import { LambdaClient } from '@aws-sdk/client-lambda';
import middy from '@middy/core';
import { ConfigError } from '../src/errors.js';
import { type ConnectResult, connect } from '../src/gateway/connect.js';
import type { WsProxyEvent } from '../src/gateway/events.js';
import { lambdaGreeterInvoker } from '../src/gateway/greeter.js';
import { createGatewayRuntime } from '../src/gateway/runtime.js';
import { lambdaContextLogging } from '../src/observability/logger.js';

const runtime = createGatewayRuntime('pusher-ws-connect');
const greeterFunctionName = runtime.config.greeterFunctionName;
if (greeterFunctionName === undefined) throw new ConfigError('GREETER_FUNCTION_NAME', 'required by $connect');
// The endpoint comes from the SDK's sources: AWS_ENDPOINT_URL_LAMBDA points it at serverless-offline locally.
const lambda = new LambdaClient({
  region: runtime.config.region,
  maxAttempts: 2,
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000, throwOnRequestTimeout: true },
});
const greeter = lambdaGreeterInvoker(lambda, greeterFunctionName);

/** WebSocket `$connect` route, behind the `$connect` authorizer. */
export const handler = middy<WsProxyEvent, ConnectResult>()
  .use(lambdaContextLogging(runtime.logger))
  .handler((event) =>
    connect(
      {
        state: runtime.state,
        resolver: runtime.resolver,
        greeter,
        logger: runtime.logger,
        now: () => Date.now(),
      },
      event,
    ),
  );
