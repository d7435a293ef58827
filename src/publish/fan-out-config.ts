import { SQSClient } from '@aws-sdk/client-sqs';
import { readNumber, readUrl } from '../config/env.js';
import { ConfigError } from '../errors/errors.js';
import { FAN_OUT_DEFAULTS, type FanOutOptions } from './fan-out.js';
import type { FanOutDispatcher } from './fan-out-job.js';
import { type FailedJobs, failureQueue, queueFanOutDispatcher } from './fan-out-queue.js';
import { laneRanges, MAX_LANES } from './lanes.js';

/**
 * `FAN_OUT_QUEUE_URL` (the fan-out queue the worker reads; unset, every post is made by the invocation itself),
 * `FAN_OUT_INLINE_LIMIT` (the largest channel a publishing invocation posts itself), `FAN_OUT_JOB_SIZE`
 * (subscribers per page of a lane job) and `FAN_OUT_LANES` (lanes a large channel is split into; every
 * publishing Lambda must use the same number, or two events' order is lost). Read once at cold start by the
 * publishing routes and `$default`.
 */
export function fanOutOptionsFromEnv(env: NodeJS.ProcessEnv, region: string): FanOutOptions {
  const inlineLimit = readNumber(env, 'FAN_OUT_INLINE_LIMIT', FAN_OUT_DEFAULTS.inlineLimit, {
    integer: true,
    min: 1,
  });
  const jobSize = readNumber(env, 'FAN_OUT_JOB_SIZE', FAN_OUT_DEFAULTS.jobSize, { integer: true, min: 1 });
  const lanes = readNumber(env, 'FAN_OUT_LANES', FAN_OUT_DEFAULTS.lanes.length, {
    integer: true,
    min: 1,
    max: MAX_LANES,
  });
  const dispatcher = fanOutDispatcherFromEnv(env, region);
  const options = { inlineLimit, jobSize, lanes: laneRanges(lanes) };
  return dispatcher === undefined ? options : { ...options, dispatcher };
}

/** The fan-out queue named by `FAN_OUT_QUEUE_URL`; none when it is unset. */
export function fanOutDispatcherFromEnv(
  env: NodeJS.ProcessEnv,
  region: string,
): FanOutDispatcher | undefined {
  const queueUrl = readUrl(env, 'FAN_OUT_QUEUE_URL');
  return queueUrl === undefined ? undefined : queueFanOutDispatcher(sqsClient(region), queueUrl);
}

/** The fan-out failure queue the worker sets jobs aside in: `FAN_OUT_FAILURE_QUEUE_URL`, required. */
export function failedJobsFromEnv(env: NodeJS.ProcessEnv, region: string): FailedJobs {
  const queueUrl = readUrl(env, 'FAN_OUT_FAILURE_QUEUE_URL');
  if (queueUrl === undefined)
    throw new ConfigError('FAN_OUT_FAILURE_QUEUE_URL', 'required by the fan-out worker');
  return failureQueue(sqsClient(region), queueUrl);
}

// The endpoint comes from the SDK's sources: AWS_ENDPOINT_URL_SQS points it at the local emulator.
const sqsClient = (region: string) =>
  new SQSClient({
    region,
    // Two tries inside 5 s: the publishing route posts what the queue refuses itself, within its budget.
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000, throwOnRequestTimeout: true },
  });
