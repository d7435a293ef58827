import type { App } from '../apps/app.js';
import { cleanUpConnections, type GoneConnection } from '../cleanup/cleanup.js';
import { forEachLimited } from '../gateway/concurrency.js';
import type { GatewayContext } from '../gateway/context.js';
import { connectionIdOf } from '../gateway/socket-id.js';
import type { Frame } from '../protocol/frames.js';
import { channelType, isCacheChannel, SERVER_TO_USER_PREFIX } from '../protocol/index.js';
import { storeLastEvent } from '../state/channel-cache.js';
import { channelCounts } from '../state/subscribers.js';
import { userConnectionIds } from '../state/users.js';
import { type Delivery, deliver, FAN_OUT_DEFAULTS, type FanOutOptions, fanOut } from './fan-out.js';

/** Channels of one event fanned out at once (each with its own bounded posts): at most 100 per event. */
const CHANNEL_CONCURRENCY = 4;

/** One event to publish, as checked against the app's limits. */
export interface PublishEvent {
  readonly name: string;
  readonly data: string;
  readonly channels: readonly string[];
  /** Connection to leave out of delivery (the sender). */
  readonly socketId?: string;
  /** Channel attributes the caller asked for in the answer (`user_count`, `subscription_count`). */
  readonly info: readonly ChannelInfoAttribute[];
}

export type ChannelInfoAttribute = 'user_count' | 'subscription_count';

/** Channel attributes as the HTTP API reports them. */
export interface ChannelAttributes {
  user_count?: number;
  subscription_count?: number;
}

/** What a publish did, for the answer and the logs. */
export interface PublishOutcome {
  /** Posts made, over every event and channel. */
  readonly recipients: number;
  /** Connections found gone (410) and cleaned up. */
  readonly gone: number;
  /** Per event, the attributes of its channels that its `info` asked for. */
  readonly info: readonly Readonly<Record<string, ChannelAttributes>>[];
}

/**
 * Publishes events, in order (a batch's events reach each channel in the order given), each to every
 * subscriber of each of its channels but the connection its `socket_id` names: the frame is
 * `{"event","channel","data"}` with `data` exactly the string sent. A `#server-to-user-<id>` channel reaches
 * the user's signed-in connections (`deliverToUser`). A cache channel keeps each event
 * as its last (`channel-cache.ts`), `socket_id` or not; client events never go through here. Connections found gone are
 * cleaned up afterwards. Then, for events with `info`, the channels' counts are read.
 */
export async function publishEvents(
  context: GatewayContext,
  app: App,
  events: readonly PublishEvent[],
  fanOutOptions: FanOutOptions = FAN_OUT_DEFAULTS,
): Promise<PublishOutcome> {
  const gone: GoneConnection[] = [];
  let recipients = 0;
  for (const event of events) {
    const excluded = event.socketId === undefined ? undefined : connectionIdOf(event.socketId);
    await forEachLimited(event.channels, CHANNEL_CONCURRENCY, async (channel) => {
      const frame = { event: event.name, channel, data: event.data };
      // Stored before it is posted: a subscriber that joins meanwhile gets it from one or the other.
      if (isCacheChannel(channel)) {
        await storeLastEvent(context.state, app.id, channel, event, context.now());
      }
      const delivery =
        channelType(channel) === 'server-to-user'
          ? await deliverToUser(context, app.id, channel, frame, excluded, fanOutOptions)
          : await fanOut(context, app.id, channel, frame, excluded, fanOutOptions);
      recipients += delivery.recipients;
      gone.push(...delivery.gone);
    });
  }
  if (gone.length > 0) await cleanUpConnections(context, gone);
  const info = await Promise.all(events.map((event) => channelAttributes(context, app.id, event)));
  return { recipients, gone: gone.length, info };
}

/**
 * A user's channel (`sendToUser`) reaches every connection signed in as the user, whether or not it has
 * subscribed to `#server-to-user-<id>` yet (pusher-js subscribes only after `signin_success`, and routes the
 * channel's events from then on): Pusher sends to authenticated users "without them having to subscribe to
 * channels in advance". Only a connection signed in as the user may subscribe to it, so none gets it twice.
 */
async function deliverToUser(
  context: GatewayContext,
  appId: string,
  channel: string,
  frame: Frame,
  excluded: string | undefined,
  options: FanOutOptions,
): Promise<Delivery> {
  const userId = channel.slice(SERVER_TO_USER_PREFIX.length);
  const recipients = (await userConnectionIds(context.state, appId, userId, context.now())).filter(
    (id) => id !== excluded,
  );
  return deliver(context, appId, channel, recipients, frame, options);
}

async function channelAttributes(
  context: GatewayContext,
  appId: string,
  event: PublishEvent,
): Promise<Record<string, ChannelAttributes>> {
  if (event.info.length === 0) return {};
  const entries = await Promise.all(
    event.channels.map(async (channel) => {
      const counts = await channelCounts(context.state, appId, channel, context.now());
      return [channel, attributesOf(channel, event.info, counts)] as const;
    }),
  );
  return Object.fromEntries(entries);
}

/** `user_count` exists only on presence channels; elsewhere it is left out, as Pusher does on publish. */
export function attributesOf(
  channel: string,
  requested: readonly ChannelInfoAttribute[],
  counts: { readonly subscriptionCount: number; readonly userCount: number },
): ChannelAttributes {
  const attributes: ChannelAttributes = {};
  if (requested.includes('user_count') && channelType(channel) === 'presence') {
    attributes.user_count = counts.userCount;
  }
  if (requested.includes('subscription_count')) attributes.subscription_count = counts.subscriptionCount;
  return attributes;
}
