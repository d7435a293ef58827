import { cleanUpConnections } from '../cleanup/cleanup.js';
import { FanOutIncompleteError } from '../errors/errors.js';
import type { GatewayContext } from '../gateway/context.js';
import { encodedFrame } from '../protocol/frames.js';
import { type Delivery, deliver, deliverRange, NO_DELIVERY } from './fan-out.js';
import { type FanOutDispatcher, type FanOutJob, parseFanOutJob } from './fan-out-job.js';

/** What a worker invocation needs besides the gateway context: who takes the range after its page. */
export interface FanOutWorkerOptions {
  readonly dispatcher?: FanOutDispatcher;
  /** The invocation's remaining time (`getRemainingTimeInMillis()`). */
  readonly remainingMs: number;
}

/**
 * Kept from the worker's time for what follows the posts (the cleanup of what they found gone, the hand-off
 * of the rest): a job stops posting this long before its timeout.
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
  const delivered =
    job.kind === 'list'
      ? await deliver(context, job.appId, job.channel, job.connectionIds, job.frame)
      : await deliverRange(context, job, encodedFrame(job.frame), {
          dispatcher: options.dispatcher,
          stopAtMs: context.now() + options.remainingMs - WORKER_RESERVE_MS,
        });
  if (delivered.gone.length > 0) await cleanUpConnections(context, delivered.gone);
  return delivered;
}

/**
 * One invocation of the fan-out worker: the job checked and run. A job that fails or is cut short throws
 * (the worker is never retried, which would post twice): Lambda sends it to the on-failure destination
 * with the error, which names where a cut-short range stopped, so an operator can replay the rest.
 */
export async function fanOutInvocation(
  context: GatewayContext,
  payload: unknown,
  options: FanOutWorkerOptions,
): Promise<'done' | 'invalid'> {
  const job = parseFanOutJob(payload);
  if (job === undefined) {
    context.logger.error('invalid fan-out job', { payload: JSON.stringify(payload)?.slice(0, 500) });
    return 'invalid';
  }
  const delivered = await runFanOutJob(context, job, options);
  context.logger.info('fan-out job', {
    appId: job.appId,
    kind: job.kind,
    posts: delivered.recipients,
    gone: delivered.gone.length,
    dispatched: delivered.dispatched,
  });
  if (delivered.cutShortAfter !== undefined)
    throw new FanOutIncompleteError(job.channel, delivered.cutShortAfter);
  return 'done';
}
