import { hmacSha256Hex } from './hmac.js';

/**
 * The `X-Pusher-Signature` header of a webhook: lowercase hex HMAC-SHA256 of the exact body bytes (a string
 * is hashed as UTF-8), keyed with the app secret. Sign the bytes you send; never re-serialize afterwards.
 */
export function signWebhook(body: string | Uint8Array, secret: string): string {
  return hmacSha256Hex(secret, body);
}
