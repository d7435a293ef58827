import { LambdaClient } from '@aws-sdk/client-lambda';
import { readNumber, readVariable } from '../config/env.js';
import { FAN_OUT_DEFAULTS, type FanOutOptions } from './fan-out.js';
import { type FanOutDispatcher, lambdaFanOutDispatcher } from './fan-out-job.js';

/**
 * `FAN_OUT_FUNCTION_NAME` (the fan-out worker; unset, every post is made by the invocation itself),
 * `FAN_OUT_INLINE_LIMIT` (subscribers a publishing invocation posts before the worker takes the rest) and
 * `FAN_OUT_JOB_SIZE` (subscribers per worker job). Read once at cold start, by the publishing routes and by
 * the worker itself (which hands each range's rest to the next job).
 */
export function fanOutOptionsFromEnv(env: NodeJS.ProcessEnv, region: string): FanOutOptions {
  const inlineLimit = readNumber(env, 'FAN_OUT_INLINE_LIMIT', FAN_OUT_DEFAULTS.inlineLimit, {
    integer: true,
    min: 1,
  });
  const jobSize = readNumber(env, 'FAN_OUT_JOB_SIZE', FAN_OUT_DEFAULTS.jobSize, { integer: true, min: 1 });
  const dispatcher = fanOutDispatcherFromEnv(env, region);
  return dispatcher === undefined ? { inlineLimit, jobSize } : { inlineLimit, jobSize, dispatcher };
}

/** The fan-out worker named by `FAN_OUT_FUNCTION_NAME`, invoked asynchronously; none when it is unset. */
export function fanOutDispatcherFromEnv(
  env: NodeJS.ProcessEnv,
  region: string,
): FanOutDispatcher | undefined {
  const functionName = readVariable(env, 'FAN_OUT_FUNCTION_NAME')?.value;
  if (functionName === undefined) return undefined;
  // The endpoint comes from the SDK's sources: AWS_ENDPOINT_URL_LAMBDA points it at serverless-offline locally.
  const lambda = new LambdaClient({
    region,
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000, throwOnRequestTimeout: true },
  });
  return lambdaFanOutDispatcher(lambda, functionName);
}
