import { nestsDeeperThan, parseJsonObject } from '../protocol/json.js';

// What a client sends on `$default`, parsed into the cases the router handles. Never throws: anything that
// is not a well-formed message becomes `invalid` with a reason the client is told.

export type ClientMessage =
  | { readonly kind: 'ping' }
  | {
      readonly kind: 'subscribe';
      readonly channel: string;
      /** Absent for public channels (pusher-js sends `""`, which counts as absent). */
      readonly auth: string | undefined;
      readonly channelData: string | undefined;
    }
  | { readonly kind: 'unsubscribe'; readonly channel: string }
  | { readonly kind: 'signin'; readonly auth: string; readonly userData: string }
  | {
      readonly kind: 'client-event';
      readonly event: string;
      readonly channel: string | undefined;
      readonly data: unknown;
    }
  | { readonly kind: 'invalid'; readonly reason: string };

const CLIENT_EVENT_PREFIX = 'client-';
/** Deeper client-event data is refused: no real payload nests this far, and re-encoding it could overflow. */
export const MAX_CLIENT_EVENT_DATA_DEPTH = 64;

/** The message in a `$default` event body: a JSON object with a string `event`. */
export function parseClientMessage(body: string | null | undefined): ClientMessage {
  const message = parseJsonObject(body);
  if (message === undefined) return invalid('The message must be a JSON object');
  const { event } = message;
  if (typeof event !== 'string' || event === '') return invalid('The message has no "event" name');
  if (event.startsWith(CLIENT_EVENT_PREFIX)) {
    if (nestsDeeperThan(message.data, MAX_CLIENT_EVENT_DATA_DEPTH)) {
      return invalid(`The event's data nests deeper than ${MAX_CLIENT_EVENT_DATA_DEPTH} levels`);
    }
    return {
      kind: 'client-event',
      event,
      channel: typeof message.channel === 'string' ? message.channel : undefined,
      data: message.data,
    };
  }
  // pusher-js sends `data` as an object; some clients send it as a JSON string.
  const data = typeof message.data === 'string' ? parseJsonObject(message.data) : asObject(message.data);
  switch (event) {
    case 'pusher:ping':
      return { kind: 'ping' };
    case 'pusher:subscribe':
      return parseSubscribe(data);
    case 'pusher:unsubscribe': {
      const channel = data?.channel;
      return typeof channel === 'string' && channel !== ''
        ? { kind: 'unsubscribe', channel }
        : invalid('pusher:unsubscribe needs data.channel');
    }
    case 'pusher:signin': {
      const auth = data?.auth;
      const userData = data?.user_data;
      return typeof auth === 'string' && typeof userData === 'string'
        ? { kind: 'signin', auth, userData }
        : invalid('pusher:signin needs data.auth and data.user_data strings');
    }
    default:
      return invalid(`Unsupported event ${JSON.stringify(event.slice(0, 100))}`);
  }
}

function parseSubscribe(data: Record<string, unknown> | undefined): ClientMessage {
  const channel = data?.channel;
  if (typeof channel !== 'string' || channel === '') return invalid('pusher:subscribe needs data.channel');
  const auth = data?.auth ?? undefined;
  const channelData = data?.channel_data ?? undefined;
  if (
    (auth !== undefined && typeof auth !== 'string') ||
    (channelData !== undefined && typeof channelData !== 'string')
  ) {
    return invalid('pusher:subscribe data.auth and data.channel_data must be strings');
  }
  return { kind: 'subscribe', channel, auth: auth || undefined, channelData: channelData || undefined };
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function invalid(reason: string): ClientMessage {
  return { kind: 'invalid', reason };
}
