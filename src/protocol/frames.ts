// The frames the server sends, as pusher-js 8 reads them (src/core/connection/protocol/protocol.ts,
// channels/*.ts, user.ts). Where Pusher sends `data` as a JSON string, so do these.

/**
 * Seconds of silence after which pusher-js pings (it uses the smaller of this and its own option, 120 by
 * default). 120 keeps an idle client pinging five times inside API Gateway's 10-minute idle timeout, and
 * each ping costs a `$default` Lambda invocation and two messages: Pusher's own value, four times fewer
 * pings than soketi's 30.
 */
export const ACTIVITY_TIMEOUT_SECONDS = 120;

/** Connection refusals pusher-js obeys by giving up (codes 4000–4099: "do not reconnect unchanged"). */
export const REFUSAL_CODES = {
  unknownApp: 4001,
  appDisabled: 4003,
  overConnectionQuota: 4004,
  invalidProtocol: 4006,
  unsupportedProtocol: 4007,
} as const;

export type RefusalCode = (typeof REFUSAL_CODES)[keyof typeof REFUSAL_CODES];

/** Pusher's messages for its close codes (pusher-websockets-protocol.md). */
const REFUSAL_MESSAGES: Record<RefusalCode, string> = {
  4001: 'Application does not exist',
  4003: 'Application disabled',
  4004: 'Application is over connection quota',
  4006: 'Invalid version string format',
  4007: 'Unsupported protocol version',
};

export function isRefusalCode(value: unknown): value is RefusalCode {
  return typeof value === 'number' && Object.hasOwn(REFUSAL_MESSAGES, value);
}

/** `pusher:error` code of a refused signin: "Connection is unauthorized". */
export const UNAUTHORIZED_CODE = 4009;

/** Pusher's code for "rejected due to rate limit" (4300–4399: pusher-js does not reconnect on it). */
export const RATE_LIMIT_CODE = 4301;

/**
 * A frame as sent: `event`, optional `channel`, `data` (a JSON string where Pusher sends one) and, on
 * presence client events, `user_id`.
 */
export interface Frame {
  readonly event: string;
  readonly channel?: string;
  readonly data?: unknown;
}

export const encodeFrame = (frame: Frame): string => JSON.stringify(frame);

/** A frame encoded once for many recipients: a fan-out posts the same bytes to each. */
export interface EncodedFrame {
  readonly event: string;
  readonly bytes: Uint8Array;
}

export const encodedFrame = (frame: Frame): EncodedFrame => ({
  event: frame.event,
  bytes: Buffer.from(encodeFrame(frame)),
});

/**
 * The largest frame posted to a connection, in bytes of its UTF-8 encoding: API Gateway refuses a WebSocket
 * message over 128 KB, a limit that cannot be raised. AWS writes "KB", not KiB: 128,000 keeps a margin
 * whichever it means.
 */
export const MAX_FRAME_BYTES = 128_000;

/**
 * The largest frame a client may send, in bytes of its payload: API Gateway closes the connection with 1009
 * on a client frame over 32 KB, before any Lambda runs. pusher-js never fragments, so this bounds a client
 * event or a subscribe's `channel_data` in practice. 32,000 keeps the same margin as `MAX_FRAME_BYTES`.
 */
export const MAX_INBOUND_FRAME_BYTES = 32_000;

export const frameBytes = (frame: Frame): number => Buffer.byteLength(encodeFrame(frame), 'utf8');

export function connectionEstablished(socketId: string): Frame {
  return {
    event: 'pusher:connection_established',
    data: JSON.stringify({ socket_id: socketId, activity_timeout: ACTIVITY_TIMEOUT_SECONDS }),
  };
}

/**
 * `pusher:error`. `code` null is what Pusher sends for an error that does not end the connection (a bad
 * message, an unsupported event); codes 4000–4399 carry the meanings of Pusher's close codes.
 */
export function pusherError(message: string, code: number | null): Frame {
  return { event: 'pusher:error', data: { code, message } };
}

export function refusal(code: RefusalCode): Frame {
  return pusherError(REFUSAL_MESSAGES[code], code);
}

export const pong = (): Frame => ({ event: 'pusher:pong', data: {} });

/** Why a subscription was refused; `status` follows soketi where Pusher documents nothing. */
export type SubscriptionErrorType =
  | 'AuthError'
  | 'LimitReached'
  | 'InvalidChannel'
  | 'InvalidChannelData'
  | 'ServerError';

/**
 * `pusher:subscription_error` on the channel: pusher-js emits it there, with the same `{type, error, status}`
 * shape it uses itself when an auth endpoint fails, so `channel.bind('pusher:subscription_error', …)` and
 * Laravel Echo's `.error()` see server refusals too.
 */
export function subscriptionError(
  channel: string,
  type: SubscriptionErrorType,
  error: string,
  status: number,
): Frame {
  return { event: 'pusher:subscription_error', channel, data: { type, error, status } };
}

export function subscriptionSucceeded(channel: string): Frame {
  return { event: 'pusher_internal:subscription_succeeded', channel, data: '{}' };
}

/** What a cache channel's new subscriber gets when the channel holds no last event: no `data`, as Pusher sends it. */
export function cacheMiss(channel: string): Frame {
  return { event: 'pusher:cache_miss', channel };
}

/** A presence member as pusher-js's `Members` stores it: id → user_info. */
export interface Member {
  readonly userId: string;
  /** Undefined when the member has none. */
  readonly userInfo: unknown;
}

/**
 * The roster a presence subscriber starts from: `{"presence":{"ids","hash","count"}}`. A member without
 * `user_info` is in the hash as null: pusher-js looks members up with `hasOwnProperty`, and JSON would drop
 * an undefined value along with its key. Ids are sorted, so the same roster is always the same frame.
 */
export function presenceSubscriptionSucceeded(channel: string, members: readonly Member[]): Frame {
  const byId = new Map(members.map((member) => [member.userId, member.userInfo ?? null]));
  const ids = [...byId.keys()].sort();
  return {
    event: 'pusher_internal:subscription_succeeded',
    channel,
    data: JSON.stringify({
      presence: { ids, hash: Object.fromEntries(ids.map((id) => [id, byId.get(id)])), count: ids.length },
    }),
  };
}

export function memberAdded(channel: string, member: Member): Frame {
  const data =
    member.userInfo === undefined
      ? { user_id: member.userId }
      : { user_id: member.userId, user_info: member.userInfo };
  return { event: 'pusher_internal:member_added', channel, data: JSON.stringify(data) };
}

export function memberRemoved(channel: string, userId: string): Frame {
  return { event: 'pusher_internal:member_removed', channel, data: JSON.stringify({ user_id: userId }) };
}

/** `user_data` is passed back exactly as signed. */
export function signinSuccess(userData: string): Frame {
  return { event: 'pusher:signin_success', data: { user_data: userData } };
}
