import type { App } from '../apps/app.js';
import { signAuth, verifyAuth } from './hmac.js';
import { parseJsonObject } from './json.js';
import { ALLOWED_NAME_CHARACTERS, isValidUserId, MAX_USER_ID_LENGTH } from './validation.js';

export interface SignUserInput {
  readonly key: string;
  readonly secret: string;
  readonly socketId: string;
  /** The exact JSON string sent as `user_data`. */
  readonly userData: string;
}

export interface UserAuthentication {
  readonly auth: string;
  readonly user_data: string;
}

export interface VerifyUserAuthInput {
  readonly app: Pick<App, 'key' | 'secret'>;
  readonly socketId: string;
  /** The `user_data` string exactly as the client sent it; never re-serialized. */
  readonly userData: string;
  readonly auth: string;
}

/** A signed-in user's data; `user_info` and `watchlist` are passed on as given. */
export interface UserData {
  readonly id: string;
  readonly user_info?: unknown;
  readonly watchlist?: unknown;
  readonly [field: string]: unknown;
}

export type UserDataResult =
  | { readonly ok: true; readonly user: UserData }
  | { readonly ok: false; readonly problem: 'invalid-json' | 'invalid-id'; readonly reason: string };

/** Authenticates a user for `pusher:signin`: `auth` signs `<socket_id>::user::<user_data>`. */
export function signUser({ key, secret, socketId, userData }: SignUserInput): UserAuthentication {
  return { auth: signAuth(key, secret, userStringToSign(socketId, userData)), user_data: userData };
}

/** Whether `auth` is exactly the app's `<key>:<signature>` for this signin; constant-time compare. */
export function verifyUserAuth({ app, socketId, userData, auth }: VerifyUserAuthInput): boolean {
  return verifyAuth(app, userStringToSign(socketId, userData), auth);
}

/**
 * Parses `user_data`: a JSON object whose `id` is a non-empty string of at most 200 characters from the
 * channel-name set (so `#server-to-user-<id>` is a valid channel). Never throws.
 */
export function parseUserData(userData: unknown): UserDataResult {
  const data = parseJsonObject(userData);
  if (data === undefined)
    return { ok: false, problem: 'invalid-json', reason: 'user_data must be a JSON object string' };
  if (!isValidUserId(data.id)) {
    return {
      ok: false,
      problem: 'invalid-id',
      reason: `user_data.id must be a non-empty string of at most ${MAX_USER_ID_LENGTH} characters from ${ALLOWED_NAME_CHARACTERS}`,
    };
  }
  return { ok: true, user: data as UserData };
}

function userStringToSign(socketId: string, userData: string): string {
  return `${socketId}::user::${userData}`;
}
