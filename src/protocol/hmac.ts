import { createHmac, timingSafeEqual } from 'node:crypto';

const SIGNATURE_HEX_LENGTH = 64;
const LOWERCASE_HEX_SIGNATURE = /^[0-9a-f]{64}$/;
const COLON = 58;

// Reused for every comparison: the compare is synchronous, so concurrent requests cannot interleave here,
// and it spares two Buffer allocations per request.
const scratch = Buffer.alloc(2 * SIGNATURE_HEX_LENGTH);
const expectedBytes = scratch.subarray(0, SIGNATURE_HEX_LENGTH);
const sentBytes = scratch.subarray(SIGNATURE_HEX_LENGTH);

/** Lowercase hex HMAC-SHA256 of `data` (a string is hashed as UTF-8), keyed with `secret`. */
export function hmacSha256Hex(secret: string, data: string | Uint8Array): string {
  return createHmac('sha256', secret).update(data).digest('hex');
}

/**
 * Whether `sent` equals `expected`, a lowercase hex HMAC-SHA256. Only the format check (64 lowercase hex
 * characters, public knowledge) runs in variable time; the content compare is constant time.
 */
export function hexSignatureEquals(expected: string, sent: string): boolean {
  // The format check also guarantees that the latin1 write below maps each character to its own byte.
  if (sent.length !== SIGNATURE_HEX_LENGTH || !LOWERCASE_HEX_SIGNATURE.test(sent)) return false;
  expectedBytes.write(expected, 'latin1');
  sentBytes.write(sent, 'latin1');
  return timingSafeEqual(expectedBytes, sentBytes);
}

/** The `auth` value of a channel or user authorization: `<key>:<hex HMAC-SHA256(secret, data)>`. */
export function signAuth(key: string, secret: string, data: string): string {
  return `${key}:${hmacSha256Hex(secret, data)}`;
}

/** Whether `auth` is exactly `<app.key>:<hex HMAC-SHA256(app.secret, data)>`. */
export function verifyAuth(
  app: { readonly key: string; readonly secret: string },
  data: string,
  auth: string,
): boolean {
  const { key } = app;
  if (typeof auth !== 'string' || auth.length !== key.length + 1 + SIGNATURE_HEX_LENGTH) return false;
  if (!auth.startsWith(key) || auth.charCodeAt(key.length) !== COLON) return false;
  return hexSignatureEquals(hmacSha256Hex(app.secret, data), auth.slice(key.length + 1));
}
