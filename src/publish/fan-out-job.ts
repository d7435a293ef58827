import type { LambdaClient } from '@aws-sdk/client-lambda';
import { invokeAsynchronously } from '../gateway/async-invoke.js';

// The contract between a publishing invocation and the fan-out worker: the jobs' shapes, how they are handed
// over and how the worker reads them back. No job holds a secret: the frame is what every subscriber gets.

/**
 * The frame a fan-out posts: what a publish sends to a channel (`data` a string), or a client event (`data` as
 * the client sent it, `user_id` on presence channels).
 */
export interface FanOutFrame {
  readonly event: string;
  readonly channel: string;
  readonly data: unknown;
  readonly user_id?: string;
}

/**
 * The rest of a large channel, as a key range: the subscribers after `after` (a connection id, exclusive),
 * read `pageSize` at a time. The worker reads one page, hands the range after it to the next job, and posts.
 */
export interface FanOutRangeJob {
  readonly kind: 'range';
  readonly appId: string;
  readonly channel: string;
  readonly frame: FanOutFrame;
  readonly after: string;
  readonly pageSize: number;
  /** The sender a publish names by `socket_id`: never posted to. */
  readonly excludedConnectionId?: string;
}

/** Named recipients (what a route dispatched before range jobs existed). */
export interface FanOutListJob {
  readonly kind: 'list';
  readonly appId: string;
  readonly channel: string;
  readonly frame: FanOutFrame;
  readonly connectionIds: readonly string[];
}

/** Connections a publishing invocation found gone (410), cleaned up by the worker, off the response path. */
export interface CleanupJob {
  readonly kind: 'cleanup';
  readonly appId: string;
  readonly channel: string;
  readonly connectionIds: readonly string[];
}

export type FanOutJob = FanOutRangeJob | FanOutListJob | CleanupJob;

/** Starts a job elsewhere without waiting for it. */
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

const isString = (value: unknown): value is string => typeof value === 'string';
const isStringList = (value: unknown): value is string[] => Array.isArray(value) && value.every(isString);

export function parseFanOutJob(payload: unknown): FanOutJob | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const job = payload as Record<string, unknown>;
  const { appId, channel } = job;
  if (!isString(appId) || !isString(channel)) return undefined;
  // A job without `kind` comes from a route deployed before range jobs: a list.
  const kind = job.kind ?? 'list';
  if (kind === 'cleanup') {
    return isStringList(job.connectionIds)
      ? { kind, appId, channel, connectionIds: job.connectionIds }
      : undefined;
  }
  const frame = parseFrame(job.frame, channel);
  if (frame === undefined) return undefined;
  if (kind === 'list') {
    return isStringList(job.connectionIds)
      ? { kind, appId, channel, frame, connectionIds: job.connectionIds }
      : undefined;
  }
  if (kind !== 'range' || !isString(job.after)) return undefined;
  const { pageSize, excludedConnectionId } = job;
  if (typeof pageSize !== 'number' || !Number.isInteger(pageSize) || pageSize < 1) return undefined;
  if (excludedConnectionId !== undefined && !isString(excludedConnectionId)) return undefined;
  return {
    kind,
    appId,
    channel,
    frame,
    after: job.after,
    pageSize,
    ...(excludedConnectionId === undefined ? {} : { excludedConnectionId }),
  };
}

function parseFrame(value: unknown, channel: string): FanOutFrame | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { event, channel: frameChannel, data, user_id: userId } = value as Record<string, unknown>;
  if (!isString(event) || frameChannel !== channel || !('data' in value)) return undefined;
  if (userId !== undefined && !isString(userId)) return undefined;
  return userId === undefined ? { event, channel, data } : { event, channel, data, user_id: userId };
}
