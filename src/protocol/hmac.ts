import { hash, timingSafeEqual } from 'node:crypto';

const SIGNATURE_HEX_LENGTH = 64;
const LOWERCASE_HEX_SIGNATURE = /^[0-9a-f]{64}$/;
const COLON = 58;

const SHA256_BLOCK_BYTES = 64;
const SHA256_DIGEST_BYTES = 32;
const INNER_PAD = 0x36;
const OUTER_PAD = 0x5c;
const MESSAGE_CAPACITY = 16 * 1024;

// Module-scope scratch buffers, so the hot path allocates no buffers of its own. They hold one request's bytes
// at a time, which is safe only while each function here fills and reads them (digest, compare) within one
// synchronous call. Invariant: no await, callback or async crypto between fill and read; otherwise
// concurrent requests on the event loop would overwrite each other's bytes, silently. They, like the
// padded-key cache, hold secret-derived bytes between calls, as the app cache holds the secrets themselves.
const innerBlock = Buffer.alloc(SHA256_BLOCK_BYTES + MESSAGE_CAPACITY);
const outerBlock = Buffer.alloc(SHA256_BLOCK_BYTES + SHA256_DIGEST_BYTES);
const compared = Buffer.alloc(2 * SIGNATURE_HEX_LENGTH);
const expectedBytes = compared.subarray(0, SIGNATURE_HEX_LENGTH);
const sentBytes = compared.subarray(SIGNATURE_HEX_LENGTH);

/**
 * Lowercase hex HMAC-SHA256 of `data` (a string is hashed as UTF-8), keyed with `secret` (UTF-8).
 *
 * HMAC as RFC 2104 defines it, H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m)), over Node's one-shot `crypto.hash`:
 * it gives the same bytes as `createHmac('sha256', secret)` (asserted by the tests) in about half the time,
 * because it creates no Hmac object per call and reuses each secret's padded keys. This runs on every request.
 */
export function hmacSha256Hex(secret: string, data: string | Uint8Array): string {
  const pads = paddedKeys(secret);
  innerBlock.set(pads.inner);
  outerBlock.set(pads.outer);
  outerBlock.write(hash('sha256', innerWithMessage(data), 'hex'), SHA256_BLOCK_BYTES, 'hex');
  return hash('sha256', outerBlock, 'hex');
}

interface PaddedKeys {
  readonly inner: Uint8Array;
  readonly outer: Uint8Array;
}

// A container serves few apps; the bound only stops unbounded growth (cleared at once, then refilled).
const PADDED_KEYS_LIMIT = 1_000;
const paddedKeysBySecret = new Map<string, PaddedKeys>();

function paddedKeys(secret: string): PaddedKeys {
  let pads = paddedKeysBySecret.get(secret);
  if (pads === undefined) {
    if (paddedKeysBySecret.size >= PADDED_KEYS_LIMIT) paddedKeysBySecret.clear();
    pads = padKey(secret);
    paddedKeysBySecret.set(secret, pads);
  }
  return pads;
}

/** K ⊕ ipad and K ⊕ opad, where K is the key zero-padded to one block; a longer key is hashed first. */
function padKey(secret: string): PaddedKeys {
  const encoded = Buffer.from(secret, 'utf8');
  const key = encoded.length > SHA256_BLOCK_BYTES ? hash('sha256', encoded, 'buffer') : encoded;
  const inner = new Uint8Array(SHA256_BLOCK_BYTES).fill(INNER_PAD);
  const outer = new Uint8Array(SHA256_BLOCK_BYTES).fill(OUTER_PAD);
  for (let i = 0; i < key.length; i++) {
    inner[i] = key[i]! ^ INNER_PAD;
    outer[i] = key[i]! ^ OUTER_PAD;
  }
  return { inner, outer };
}

/** innerBlock's padded key followed by the message, in the scratch buffer when it fits. */
function innerWithMessage(data: string | Uint8Array): Uint8Array {
  if (typeof data === 'string') {
    if (data.length * 3 <= MESSAGE_CAPACITY) {
      return innerBlock.subarray(0, SHA256_BLOCK_BYTES + innerBlock.write(data, SHA256_BLOCK_BYTES, 'utf8'));
    }
    return Buffer.concat([innerBlock.subarray(0, SHA256_BLOCK_BYTES), Buffer.from(data, 'utf8')]);
  }
  if (data.length <= MESSAGE_CAPACITY) {
    innerBlock.set(data, SHA256_BLOCK_BYTES);
    return innerBlock.subarray(0, SHA256_BLOCK_BYTES + data.length);
  }
  return Buffer.concat([innerBlock.subarray(0, SHA256_BLOCK_BYTES), data]);
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
