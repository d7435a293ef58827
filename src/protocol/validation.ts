import { quoteForMessage } from '../errors/format.js';
import { parseJsonObject } from './json.js';

export type ValidationResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export type ChannelType = 'public' | 'private' | 'private-encrypted' | 'presence' | 'server-to-user';

export interface ChannelNameOptions {
  /**
   * Accept `#server-to-user-<user id>` (`#` is otherwise reserved). Only where Pusher accepts it: HTTP
   * triggers (`sendToUser`) and the subscription pusher-js makes by itself after signin.
   */
  readonly allowServerToUser?: boolean;
}

/** Prefix of the channel a signed-in user is subscribed to by pusher-js, for server-to-user events. */
export const SERVER_TO_USER_PREFIX = '#server-to-user-';
/** The characters of channel names and user ids, for messages. */
export const ALLOWED_NAME_CHARACTERS = 'A-Z a-z 0-9 _ - = @ , . ;';
/** The longest user id accepted (node, python and go SDKs: 200). */
export const MAX_USER_ID_LENGTH = 200;

const VALID: ValidationResult = Object.freeze({ ok: true });
const SOCKET_ID = /^\d+\.\d+$/;
// Channel names and user ids share one character set (docs: channels.md, authenticating-users.md).
const NAME_CHARACTERS = /^[-a-zA-Z0-9_=@,.;]+$/;
const CACHE_PREFIXES = ['cache-', 'private-cache-', 'private-encrypted-cache-', 'presence-cache-'];

/** A socket id as every SDK checks it: `<digits>.<digits>`, nothing before or after. */
export function isValidSocketId(socketId: unknown): socketId is string {
  return typeof socketId === 'string' && SOCKET_ID.test(socketId);
}

/** A user id: 1–200 characters from the channel-name set, so `#server-to-user-<id>` is a valid name. */
export function isValidUserId(userId: unknown): userId is string {
  return typeof userId === 'string' && userId.length <= MAX_USER_ID_LENGTH && NAME_CHARACTERS.test(userId);
}

/**
 * Checks a channel name: non-empty, at most `maxLength` characters (the app's limit; the prefix counts),
 * characters from `A-Z a-z 0-9 _ - = @ , . ;`. `#` is reserved: `#server-to-user-<user id>` passes only with
 * `allowServerToUser`. The reason names the limit and the value.
 */
export function validateChannelName(
  name: unknown,
  maxLength: number,
  options: ChannelNameOptions = {},
): ValidationResult {
  if (typeof name !== 'string' || name === '') return invalid('Channel name must be a non-empty string');
  if (name.length > maxLength) {
    return invalid(
      `Channel name ${quoteForMessage(name)} is too long: ${name.length} characters, the limit is ${maxLength}`,
    );
  }
  if (name.startsWith('#')) {
    if (options.allowServerToUser !== true) {
      return invalid(`Invalid channel name ${quoteForMessage(name)}: names starting with "#" are reserved`);
    }
    if (!name.startsWith(SERVER_TO_USER_PREFIX) || !isValidUserId(name.slice(SERVER_TO_USER_PREFIX.length))) {
      return invalid(
        `Invalid channel name ${quoteForMessage(name)}: the only "#" channel is ${SERVER_TO_USER_PREFIX}<user id>`,
      );
    }
    return VALID;
  }
  if (!NAME_CHARACTERS.test(name)) {
    return invalid(
      `Invalid channel name ${quoteForMessage(name)}: only ${ALLOWED_NAME_CHARACTERS} are allowed`,
    );
  }
  return VALID;
}

/** Checks an event name: a non-empty string of at most `maxLength` characters (the app's limit). */
export function validateEventName(name: unknown, maxLength: number): ValidationResult {
  if (typeof name !== 'string' || name === '') return invalid('Event name must be a non-empty string');
  if (name.length > maxLength) {
    return invalid(
      `Event name ${quoteForMessage(name)} is too long: ${name.length} characters, the limit is ${maxLength}`,
    );
  }
  return VALID;
}

/**
 * The channel's type by prefix. Cache channels (`cache-`, `private-cache-`, `private-encrypted-cache-`,
 * `presence-cache-`) have the type of their base prefix; `isCacheChannel` tells them apart.
 */
export function channelType(name: string): ChannelType {
  if (name.startsWith('private-encrypted-')) return 'private-encrypted';
  if (name.startsWith('private-')) return 'private';
  if (name.startsWith('presence-')) return 'presence';
  if (name.startsWith(SERVER_TO_USER_PREFIX)) return 'server-to-user';
  return 'public';
}

/** Whether the channel keeps its last event for new subscribers (Pusher's cache channels). */
export function isCacheChannel(name: string): boolean {
  return CACHE_PREFIXES.some((prefix) => name.startsWith(prefix));
}

export interface PresenceMember {
  /** `user_id` as a string: a numeric id (`10`) becomes `'10'`, so members compare by one type. */
  readonly userId: string;
  readonly userInfo?: unknown;
}

export type PresenceChannelDataResult =
  | { readonly ok: true; readonly member: PresenceMember }
  | {
      readonly ok: false;
      readonly problem: 'invalid-json' | 'invalid-user-id' | 'too-large';
      readonly reason: string;
    };

/**
 * Parses a presence subscription's `channel_data`: a JSON object with `user_id` (a non-empty string or a
 * finite number) and an optional `user_info`, whose serialized size must not exceed `maxSizeInKb` KB (the
 * app's `maxPresenceMemberSizeInKb`; measured on `user_info` as soketi does). Never throws.
 */
export function parsePresenceChannelData(
  channelData: unknown,
  maxSizeInKb: number,
): PresenceChannelDataResult {
  const data = parseJsonObject(channelData);
  if (data === undefined) {
    return { ok: false, problem: 'invalid-json', reason: 'channel_data must be a JSON object string' };
  }
  const userId = data.user_id;
  let id: string;
  if (typeof userId === 'string' && userId !== '') id = userId;
  else if (typeof userId === 'number' && Number.isFinite(userId)) id = String(userId);
  else {
    return {
      ok: false,
      problem: 'invalid-user-id',
      reason: 'channel_data.user_id must be a non-empty string or a number',
    };
  }
  const userInfo = data.user_info;
  if (userInfo !== undefined && maxSizeInKb !== Number.POSITIVE_INFINITY) {
    const size = Buffer.byteLength(JSON.stringify(userInfo));
    if (size > maxSizeInKb * 1024) {
      return {
        ok: false,
        problem: 'too-large',
        reason: `The presence member's user_info is ${size} bytes; the maximum size for a channel member is ${maxSizeInKb} KB`,
      };
    }
  }
  return { ok: true, member: userInfo === undefined ? { userId: id } : { userId: id, userInfo } };
}

function invalid(reason: string): ValidationResult {
  return { ok: false, reason };
}
