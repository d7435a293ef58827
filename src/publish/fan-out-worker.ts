import type { LambdaClient } from '@aws-sdk/client-lambda';
import { invokeAsynchronously } from '../gateway/async-invoke.js';
import { cleanUpConnections } from '../gateway/cleanup.js';
import type { GatewayContext } from '../gateway/context.js';
import { deliver } from './fan-out.js';

/** One share of a large channel's fan-out, handed to the fan-out worker: the frame and who gets it. */
export interface FanOutJob {
  readonly appId: string;
  readonly channel: string;
  readonly frame: { readonly event: string; readonly channel: string; readonly data: string };
  readonly connectionIds: readonly string[];
}

/** Starts a fan-out job elsewhere without waiting for its posts. */
export interface FanOutDispatcher {
  dispatch(job: FanOutJob): Promise<void>;
}

/**
 * An asynchronous invocation (`InvocationType: 'Event'`) of the fan-out worker. Lambda queues what it cannot
 * run at once (the worker's reserved concurrency bounds the posts per second), so a burst is delayed, never
 * refused.
 */
export function lambdaFanOutDispatcher(client: LambdaClient, functionName: string): FanOutDispatcher {
  return { dispatch: (job) => invokeAsynchronously(client, functionName, job) };
}

export function parseFanOutJob(payload: unknown): FanOutJob | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const { appId, channel, frame, connectionIds } = payload as Record<string, unknown>;
  if (typeof appId !== 'string' || typeof channel !== 'string') return undefined;
  if (!Array.isArray(connectionIds) || !connectionIds.every((id) => typeof id === 'string')) return undefined;
  if (typeof frame !== 'object' || frame === null) return undefined;
  const { event, channel: frameChannel, data } = frame as Record<string, unknown>;
  if (typeof event !== 'string' || frameChannel !== channel || typeof data !== 'string') return undefined;
  return { appId, channel, frame: { event, channel, data }, connectionIds };
}

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
