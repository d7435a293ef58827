import type { GoneConnection } from '../gateway/cleanup.js';
import type { GatewayContext } from '../gateway/context.js';
import type { Frame } from '../gateway/frames.js';
import { postToAll } from '../gateway/management-api.js';
import { channelSubscribers } from '../state/subscribers.js';

/** What one channel's fan-out did: how many connections it posted to, and which answered 410 Gone. */
export interface Delivery {
  readonly recipients: number;
  readonly gone: readonly GoneConnection[];
}

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
 * names by `socket_id`): one paginated Query of the channel's subscriber items, then the posts.
 */
export async function fanOut(
  context: GatewayContext,
  appId: string,
  channel: string,
  frame: Frame,
  excludedConnectionId?: string,
): Promise<Delivery> {
  const subscribers = await channelSubscribers(context.state, appId, channel, context.now());
  const recipients: string[] = [];
  for (const { connectionId } of subscribers) {
    if (connectionId !== excludedConnectionId) recipients.push(connectionId);
  }
  return deliver(context, appId, channel, recipients, frame);
}
