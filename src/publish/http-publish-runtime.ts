import { LambdaClient } from '@aws-sdk/client-lambda';
import { readNumber, readVariable } from '../config/env.js';
import { createGatewayRuntime } from '../gateway/runtime.js';
import { FAN_OUT_DEFAULTS, type FanOutOptions } from './fan-out.js';
import { lambdaFanOutDispatcher } from './fan-out-worker.js';
import { type PublishHandlerOptions, publishHandler } from './http-publish.js';
import type { HttpApiHandler } from './http-route.js';
import { postingContextOf, routeOptionsOf } from './http-route-runtime.js';

/**
 * The handler of a publishing route Lambda (`POST /events`, `POST /batch_events`), built once per container
 * from the environment serverless.yml gives it (see `publishOptionsFromEnv`).
 */
export function publishHandlerFromEnv(
  serviceName: string,
  env: NodeJS.ProcessEnv = process.env,
): HttpApiHandler {
  return publishHandler(publishOptionsFromEnv(serviceName, env));
}

/**
 * What a route that publishes is built with: `STATE_TABLE`, `WEBSOCKET_API_ENDPOINT`,
 * `FAN_OUT_FUNCTION_NAME` (the fan-out worker; unset, every post is made by the route itself),
 * `FAN_OUT_INLINE_LIMIT` (recipients per channel posted by the route before the worker takes over) and
 * `FAN_OUT_JOB_SIZE` (recipients per worker job).
 */
export function publishOptionsFromEnv(serviceName: string, env: NodeJS.ProcessEnv): PublishHandlerOptions {
  const runtime = createGatewayRuntime(serviceName);
  return {
    ...routeOptionsOf(serviceName, runtime),
    context: postingContextOf(runtime),
    fanOut: fanOutOptions(env, runtime.config.region),
  };
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
