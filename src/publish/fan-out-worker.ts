import { cleanUpConnections } from '../cleanup/cleanup.js';
import type { GatewayContext } from '../gateway/context.js';
import { deliver } from './fan-out.js';
import { type FanOutJob, parseFanOutJob } from './fan-out-job.js';

/** Runs a job: the posts, then the cleanup of connections found gone. Returns how many were gone. */
export async function runFanOutJob(context: GatewayContext, job: FanOutJob): Promise<number> {
  const { gone } = await deliver(context, job.appId, job.channel, job.connectionIds, job.frame);
  if (gone.length > 0) await cleanUpConnections(context, gone);
  return gone.length;
}

/**
 * One invocation of the fan-out worker: the job checked and run. It never throws: Lambda would retry, and a
 * retry would post the whole share again to the connections that already got it.
 */
export async function fanOutInvocation(
  context: GatewayContext,
  payload: unknown,
): Promise<'done' | 'invalid' | 'failed'> {
  const job = parseFanOutJob(payload);
  if (job === undefined) {
    context.logger.error('invalid fan-out job', { payload: JSON.stringify(payload)?.slice(0, 500) });
    return 'invalid';
  }
  try {
    const gone = await runFanOutJob(context, job);
    context.logger.info('fan-out job', { appId: job.appId, posts: job.connectionIds.length, gone });
    return 'done';
  } catch (error) {
    context.logger.error('fan-out job failed', { appId: job.appId, error: String(error) });
    return 'failed';
  }
}
