import type { LaneRange } from './lanes.js';

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
 * One lane of a large channel (a fixed range of connection ids, see `lanes.ts`): the worker reads it page by
 * page, `pageSize` subscribers at a time, and posts each page. A lane's jobs run one after another, in the
 * order they were published.
 */
export interface FanOutLaneJob {
  readonly kind: 'lane';
  readonly appId: string;
  readonly channel: string;
  readonly frame: FanOutFrame;
  readonly range: LaneRange;
  /** Where a replay resumes: the connection id (exclusive) the lane was posted up to. */
  readonly after?: string;
  readonly pageSize: number;
  /** The sender a publish names by `socket_id`: never posted to. */
  readonly excludedConnectionId?: string;
}

/** Connections a publishing invocation found gone (410), cleaned up by the worker, off the response path. */
export interface CleanupJob {
  readonly kind: 'cleanup';
  readonly appId: string;
  readonly channel: string;
  readonly connectionIds: readonly string[];
}

export type FanOutJob = FanOutLaneJob | CleanupJob;

/** A job a dispatcher could not hand over, and why. */
export interface NotDispatched {
  readonly job: FanOutJob;
  readonly reason: string;
}

/** Starts jobs elsewhere without waiting for them (the fan-out queue); answers those it could not hand over. */
export interface FanOutDispatcher {
  dispatch(jobs: readonly FanOutJob[]): Promise<readonly NotDispatched[]>;
}

const isString = (value: unknown): value is string => typeof value === 'string';
const isOptionalString = (value: unknown): value is string | undefined =>
  value === undefined || isString(value);
const isStringList = (value: unknown): value is string[] => Array.isArray(value) && value.every(isString);
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;

export function parseFanOutJob(payload: unknown): FanOutJob | undefined {
  if (!isObject(payload)) return undefined;
  const job = payload;
  const { appId, channel } = job;
  if (!isString(appId) || !isString(channel)) return undefined;
  if (job.kind === 'cleanup') {
    return isStringList(job.connectionIds)
      ? { kind: 'cleanup', appId, channel, connectionIds: job.connectionIds }
      : undefined;
  }
  const frame = parseFrame(job.frame, channel);
  const range = parseRange(job.range);
  if (job.kind !== 'lane' || frame === undefined || range === undefined) return undefined;
  const { after, pageSize, excludedConnectionId } = job;
  if (typeof pageSize !== 'number' || !Number.isInteger(pageSize) || pageSize < 1) return undefined;
  if (!isOptionalString(after) || !isOptionalString(excludedConnectionId)) return undefined;
  return {
    kind: 'lane',
    appId,
    channel,
    frame,
    range,
    ...(after === undefined ? {} : { after }),
    pageSize,
    ...(excludedConnectionId === undefined ? {} : { excludedConnectionId }),
  };
}

function parseRange(value: unknown): LaneRange | undefined {
  if (!isObject(value)) return undefined;
  const { from, to } = value;
  if (!isString(from) || !isOptionalString(to)) return undefined;
  return to === undefined ? { from } : { from, to };
}

function parseFrame(value: unknown, channel: string): FanOutFrame | undefined {
  if (!isObject(value)) return undefined;
  const { event, channel: frameChannel, data, user_id: userId } = value;
  if (!isString(event) || frameChannel !== channel || !('data' in value) || !isOptionalString(userId)) {
    return undefined;
  }
  return userId === undefined ? { event, channel, data } : { event, channel, data, user_id: userId };
}
