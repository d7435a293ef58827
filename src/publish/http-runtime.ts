import { LambdaClient } from '@aws-sdk/client-lambda';
import { createAppResolver } from '../apps/resolver.js';
import { readNumber, readVariable } from '../config/env.js';
import { ConfigError } from '../errors.js';
import { createGatewayRuntime } from '../gateway/runtime.js';
import { CounterMetrics } from '../observability/metrics.js';
import { FAN_OUT_DEFAULTS, type FanOutOptions } from './fan-out.js';
import { lambdaFanOutDispatcher } from './fan-out-worker.js';
import { type HttpApiHandler, httpApiHandler } from './http-api.js';

/**
 * The HTTP API handler a route Lambda exports, built once per container from the environment serverless.yml
 * gives it: `STATE_TABLE` (state and rate-limit windows), `WEBSOCKET_API_ENDPOINT` (the WebSocket stage's
 * `@connections` API, which an HTTP API event cannot name) and, for the publishing routes,
 * `FAN_OUT_FUNCTION_NAME` (the fan-out worker; unset, every post is made by the route itself) and
 * `FAN_OUT_INLINE_LIMIT` (recipients per channel posted by the route before the worker takes over) and
 * `FAN_OUT_JOB_SIZE` (recipients per worker job).
 */
export function httpApiHandlerFromEnv(
  serviceName: string,
  env: NodeJS.ProcessEnv = process.env,
): HttpApiHandler {
  const runtime = createGatewayRuntime(serviceName);
  const endpoint = runtime.config.connectionsEndpoint;
  if (endpoint === undefined) {
    throw new ConfigError('WEBSOCKET_API_ENDPOINT', 'required by the HTTP API routes');
  }
  const context = runtime.contextAt(endpoint);
  return httpApiHandler({
    context,
    resolver: createAppResolver({ config: runtime.config.base, logger: runtime.logger }),
    rateLimiter: context.rateLimiter,
    metrics: new CounterMetrics(serviceName),
    fanOut: fanOutOptions(env, runtime.config.region),
  });
}

function fanOutOptions(env: NodeJS.ProcessEnv, region: string): FanOutOptions {
  const inlineLimit = readNumber(env, 'FAN_OUT_INLINE_LIMIT', FAN_OUT_DEFAULTS.inlineLimit, {
    integer: true,
    min: 0,
  });
  const jobSize = readNumber(env, 'FAN_OUT_JOB_SIZE', FAN_OUT_DEFAULTS.jobSize, { integer: true, min: 1 });
  const functionName = readVariable(env, 'FAN_OUT_FUNCTION_NAME')?.value;
  if (functionName === undefined) return { inlineLimit, jobSize };
  // The endpoint comes from the SDK's sources: AWS_ENDPOINT_URL_LAMBDA points it at serverless-offline locally.
  const lambda = new LambdaClient({
    region,
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000, throwOnRequestTimeout: true },
  });
  return { inlineLimit, jobSize, dispatcher: lambdaFanOutDispatcher(lambda, functionName) };
}
