import type { LambdaClient } from '@aws-sdk/client-lambda';
import { invokeAsynchronously } from '../gateway/async-invoke.js';

// The contract between a publishing invocation and the fan-out worker: the job's shape, how it is handed over
// and how the worker reads it back.

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
