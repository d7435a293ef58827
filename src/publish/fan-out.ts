import type { GoneConnection } from '../cleanup/cleanup.js';
import type { GatewayContext } from '../gateway/context.js';
import { postToAll } from '../gateway/management-api.js';
import type { Frame } from '../protocol/frames.js';
import { channelSubscribers } from '../state/subscribers.js';
import type { FanOutDispatcher, FanOutJob } from './fan-out-job.js';

/** What one channel's fan-out did: how many connections it posted to, and which answered 410 Gone. */
export interface Delivery {
  readonly recipients: number;
  readonly gone: readonly GoneConnection[];
  /** Fan-out jobs handed to the worker (their gone connections are the worker's to clean up). */
  readonly dispatched?: number;
}

/**
 * How a large channel is split. Up to `inlineLimit` recipients are posted by the publishing invocation
 * (25 at a time, about 800 posts per second on AWS: 2,000 take ~2.5 s); beyond, the recipients go to the
 * fan-out worker in jobs of `jobSize`, all running at once, so that a publish answers in well under a
 * second whatever the channel's size, and no invocation nears its timeout.
 */
export interface FanOutOptions {
  readonly dispatcher?: FanOutDispatcher;
  readonly inlineLimit: number;
  /**
   * Connection ids per job. 500 ids are ~12 KB: with a frame of up to 100 KB of data (twice that once
   * JSON-escaped), a job stays inside the 256 KB asynchronous invocation payload.
   */
  readonly jobSize: number;
}

export const FAN_OUT_DEFAULTS: FanOutOptions = Object.freeze({ inlineLimit: 2_000, jobSize: 500 });

/**
 * Posts `frame` to `recipients`, subscribers of `channel`, `FAN_OUT_CONCURRENCY` at a time. Never throws for
 * a connection: gone ones are returned (with the channel, for cleanup), failing ones logged and skipped.
 */
export async function deliver(
  context: GatewayContext,
  appId: string,
  channel: string,
  recipients: readonly string[],
  frame: Frame,
): Promise<Delivery> {
  const { gone } = await postToAll(context.connections, recipients, frame, context.logger);
  return {
    recipients: recipients.length,
    gone: gone.map((connectionId) => ({ connectionId, subscription: { appId, channel } })),
  };
}

/**
 * Posts `frame` to every live subscriber of `channel` but `excludedConnectionId` (the sender a publish
 * names by `socket_id`): one paginated Query of the channel's subscriber items, then the posts, here or,
 * for a large channel, through fan-out worker jobs.
 */
export async function fanOut(
  context: GatewayContext,
  appId: string,
  channel: string,
  frame: FanOutJob['frame'],
  excludedConnectionId: string | undefined,
  options: FanOutOptions = FAN_OUT_DEFAULTS,
): Promise<Delivery> {
  const subscribers = await channelSubscribers(context.state, appId, channel, context.now());
  const recipients: string[] = [];
  for (const { connectionId } of subscribers) {
    if (connectionId !== excludedConnectionId) recipients.push(connectionId);
  }
  const { dispatcher } = options;
  if (dispatcher === undefined || recipients.length <= options.inlineLimit) {
    return deliver(context, appId, channel, recipients, frame);
  }
  const gone: GoneConnection[] = [];
  let dispatched = 0;
  for (let start = 0; start < recipients.length; start += options.jobSize) {
    const connectionIds = recipients.slice(start, start + options.jobSize);
    try {
      await dispatcher.dispatch({ appId, channel, frame, connectionIds });
      dispatched++;
    } catch (error) {
      // The worker cannot be reached: this share is posted here rather than lost.
      context.logger.warn('fan-out job not dispatched; posting inline', { channel, error: String(error) });
      gone.push(...(await deliver(context, appId, channel, connectionIds, frame)).gone);
    }
  }
  return { recipients: recipients.length, gone, dispatched };
}
