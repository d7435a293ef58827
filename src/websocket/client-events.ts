import type { App } from '../apps/app.js';
import { quoteForMessage } from '../errors/format.js';
import type { MessageContext } from '../gateway/context.js';
import { socketIdOf } from '../gateway/socket-id.js';
import { frameBytes, MAX_FRAME_BYTES, pusherError } from '../protocol/frames.js';
import { channelType, validateEventName } from '../protocol/index.js';
import { FAN_OUT_DEFAULTS, type FanOutOptions, fanOut } from '../publish/fan-out.js';
import type { FanOutFrame } from '../publish/fan-out-job.js';
import { subscriberOf } from '../state/subscribers.js';
import { clientEventWebhook } from '../webhooks/events.js';
import { interestOf } from '../webhooks/interest.js';
import { NO_REPLY, type Outcome, replyWith } from './outcome.js';

export interface ClientEventRequest {
  readonly event: string;
  readonly channel: string | undefined;
  readonly data: unknown;
}

/** Pusher's code for a refused client event: over the rate, and (as soketi) every other client-event limit. */
export const CLIENT_EVENT_REJECTED = 4301;

/**
 * A `client-` event from a connection: delivered to the other subscribers of the channel, never back to
 * the sender, with `user_id` on presence channels, when the app enables client messages, the channel is a
 * private or presence channel the sender has joined, the name and data are within the app's limits, and
 * the connection is within `MaxClientEventsPerSecond` (counted across containers). Otherwise the sender gets
 * `pusher:error` and the connection stays open. The sender's subscription is read strongly consistent (a
 * `GetItem`); the event goes out as a publish does (`fanOut`): a page posted here, the rest of a large channel
 * by the fan-out worker, so a large presence channel's client events never hold `$default` past its time.
 */
export async function clientEvent(
  context: MessageContext,
  app: App,
  connectionId: string,
  request: ClientEventRequest,
  fanOutOptions: FanOutOptions = FAN_OUT_DEFAULTS,
): Promise<Outcome> {
  const { event, channel, data } = request;
  const refused = (message: string, code: number | null = CLIENT_EVENT_REJECTED) =>
    replyWith(pusherError(message, code));
  if (!app.enableClientMessages) return refused('The app does not have client messaging enabled.');
  if (channel === undefined || channel === '') return refused('A client event needs a channel.', null);
  const type = channelType(channel);
  if (type !== 'private' && type !== 'private-encrypted' && type !== 'presence') {
    return refused(
      `Client events are only allowed on private and presence channels, not on ${quoteForMessage(channel)}.`,
    );
  }
  const name = validateEventName(event, app.maxEventNameLength);
  if (!name.ok) return refused(`Event name: ${name.reason}`);
  const dataBytes = Buffer.byteLength(JSON.stringify(data ?? null), 'utf8');
  const maxBytes = app.maxEventPayloadInKb * 1024;
  if (dataBytes > maxBytes) {
    return refused(
      `The data content of this event is ${dataBytes} bytes, over the allowed maximum of ${maxBytes} bytes (MaxEventPayloadInKb ${app.maxEventPayloadInKb}).`,
    );
  }
  // Shared across containers: API Gateway spreads one connection's messages over as many containers as are
  // busy, so a count per container would let a burst through n times. An app without the limit (the default)
  // costs no DynamoDB call; with it, token leases keep it to about one write per few events.
  const admitted = await context.rateLimiter.consume(
    `${app.id}#${connectionId}`,
    'client-events',
    1,
    app.maxClientEventsPerSecond,
  );
  if (!admitted.allowed) {
    return refused(
      `Client event rejected due to rate limit: MaxClientEventsPerSecond is ${app.maxClientEventsPerSecond}.`,
    );
  }
  const sender = await subscriberOf(context.state, app.id, channel, connectionId, context.now());
  if (sender === undefined) {
    return refused(`Subscribe to ${quoteForMessage(channel)} before sending client events on it.`);
  }
  const frame: FanOutFrame =
    type === 'presence' && sender.userId !== undefined
      ? { event, channel, data, user_id: sender.userId }
      : { event, channel, data };
  const bytes = frameBytes(frame);
  if (bytes > MAX_FRAME_BYTES) {
    return refused(
      `The event's frame would be ${bytes} bytes, over API Gateway's limit of ${MAX_FRAME_BYTES} bytes per message.`,
    );
  }
  const userId = type === 'presence' ? sender.userId : undefined;
  context.webhooks?.raise(
    app.id,
    interestOf(app),
    clientEventWebhook(channel, event, data, socketIdOf(connectionId), userId),
  );
  const { gone } = await fanOut(context, app.id, channel, frame, connectionId, fanOutOptions);
  return { ...NO_REPLY, gone };
}
