import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { cleanUpConnections } from '../cleanup/cleanup.js';
import { FanOutPageError } from '../errors/errors.js';
import type { GatewayContext } from '../gateway/context.js';
import { DEFAULT_SERVICE_NAME } from '../observability/logger.js';
import { CounterMetrics } from '../observability/metrics.js';
import { encodedFrame } from '../protocol/frames.js';
import { type Delivery, deliverLane, NO_DELIVERY } from './fan-out.js';
import { type FanOutJob, parseFanOutJob } from './fan-out-job.js';
import type { FailedJobs } from './fan-out-queue.js';

/** What a worker invocation needs besides the gateway context. */
export interface FanOutWorkerOptions {
  /** The invocation's remaining time (`getRemainingTimeInMillis()`). */
  readonly remainingMs: number;
}

/**
 * Kept from the worker's time for what follows the posts (the cleanup of what they found gone): a job stops
 * posting this long before its timeout.
 */
export const WORKER_RESERVE_MS = 10_000;

/** Runs a job: its posts (or none, for a cleanup), then the cleanup of connections found gone. */
export async function runFanOutJob(
  context: GatewayContext,
  job: FanOutJob,
  options: FanOutWorkerOptions,
): Promise<Delivery & { readonly cutShortAfter?: string }> {
  if (job.kind === 'cleanup') {
    const subscription = { appId: job.appId, channel: job.channel };
    const gone = job.connectionIds.map((connectionId) => ({ connectionId, subscription }));
    await cleanUpConnections(context, gone);
    return { ...NO_DELIVERY, gone };
  }
  const stopAtMs = context.now() + options.remainingMs - WORKER_RESERVE_MS;
  const delivered = await deliverLane(context, job, encodedFrame(job.frame), stopAtMs);
  if (delivered.gone.length > 0) await cleanUpConnections(context, delivered.gone);
  return delivered;
}

/** What the worker invocation needs to set aside the jobs it cannot finish. */
export interface FanOutRecordsOptions {
  readonly failed: FailedJobs;
  /** The invocation's remaining time, asked before each record. */
  readonly remainingMs: () => number;
}

/**
 * One invocation of the fan-out worker: the fan-out queue's records, in order. A job that is invalid, fails
 * or is cut short is set aside in the failure queue with why (a lane with where to resume, when that is
 * known), and the record is done: it is not run again, and its lane goes on. A record
 * that cannot even be set aside is reported failed, with every later record of its lane (which must not
 * overtake it): SQS hands it back (and a record whose invocation crashed, timed out or was throttled), up to
 * five receives, then moves it to the failure queue itself. A record handed back may have been posted in
 * part already: delivery is at least once after a crash, never dropped.
 */
export async function fanOutRecords(
  context: GatewayContext,
  event: SQSEvent,
  options: FanOutRecordsOptions,
): Promise<SQSBatchResponse> {
  if (!Array.isArray(event?.Records)) {
    // Not the queue's event (an asynchronous invocation from before the queue, say): nothing to run.
    context.logger.error('fan-out worker invoked without SQS records', {
      payload: JSON.stringify(event)?.slice(0, 500),
    });
    return { batchItemFailures: [] };
  }
  const failed: string[] = [];
  const stuckGroups = new Set<string>();
  for (const record of event.Records) {
    const group = record.attributes.MessageGroupId ?? record.messageId;
    if (!stuckGroups.has(group)) {
      try {
        await runRecord(context, record.body, group, options);
        continue;
      } catch (error) {
        context.logger.error('fan-out job neither done nor set aside', {
          messageId: record.messageId,
          error: String(error),
        });
        stuckGroups.add(group);
      }
    }
    failed.push(record.messageId);
  }
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}

// Jobs set aside in the failure queue, as a running total in EMF lines (see CounterMetrics).
const metrics = new CounterMetrics(DEFAULT_SERVICE_NAME);
const totals = { FanOutJobsSetAside: 0 };

async function runRecord(
  context: GatewayContext,
  body: string,
  group: string,
  options: FanOutRecordsOptions,
): Promise<void> {
  const setAside = async (aside: string, reason: string) => {
    await options.failed.setAside(aside, group, reason);
    totals.FanOutJobsSetAside++;
    metrics.publish(totals, {}, context.now());
  };
  const job = parseFanOutJob(parsedJson(body));
  if (job === undefined) {
    context.logger.error('invalid fan-out job', { body: body.slice(0, 500) });
    await setAside(body, 'invalid fan-out job');
    return;
  }
  // What is set aside: where a lane got to, if it is known (a replay resumes there), and why.
  let resumeAfter: string | undefined;
  let reason: string;
  try {
    const delivered = await runFanOutJob(context, job, { remainingMs: options.remainingMs() });
    context.logger.info('fan-out job', {
      appId: job.appId,
      kind: job.kind,
      posts: delivered.recipients,
      gone: delivered.gone.length,
    });
    if (delivered.cutShortAfter === undefined) return;
    resumeAfter = delivered.cutShortAfter;
    // A reason, not an error: the job is set aside whole, nothing is thrown.
    reason = `the fan-out of ${JSON.stringify(job.channel)} stopped before its end: subscribers after "${resumeAfter}" got nothing`;
    context.logger.error('fan-out cut short', { appId: job.appId, after: resumeAfter });
  } catch (error) {
    resumeAfter = error instanceof FanOutPageError ? error.after : undefined;
    reason = `failed: ${String(error)}`;
    context.logger.error('fan-out job failed', { appId: job.appId, kind: job.kind, error: String(error) });
  }
  const resumed = job.kind === 'lane' && resumeAfter !== undefined;
  await setAside(resumed ? JSON.stringify({ ...job, after: resumeAfter }) : body, reason);
}

function parsedJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}
