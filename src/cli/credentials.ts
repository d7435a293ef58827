/** A source of cryptographically strong random bytes (`crypto.randomBytes`), injectable for tests. */
export type RandomBytes = (size: number) => Uint8Array;

const ID_DIGITS = 10;
const KEY_BYTES = 10;
const SECRET_BYTES = 32;

/**
 * A numeric app id like Pusher's, 10 digits without a leading zero. 64 random bits reduced modulo 9e9:
 * the bias is below one in a billion.
 */
export function generateAppId(randomBytes: RandomBytes): string {
  const span = 9n * 10n ** BigInt(ID_DIGITS - 1);
  const value = Buffer.from(randomBytes(8)).readBigUInt64BE() % span;
  return String(10n ** BigInt(ID_DIGITS - 1) + value);
}

/** 20 hex digits, the shape of a Pusher key. */
export function generateAppKey(randomBytes: RandomBytes): string {
  return Buffer.from(randomBytes(KEY_BYTES)).toString('hex');
}

/** 256 random bits as 64 hex digits: safe in any config file or environment variable. */
export function generateAppSecret(randomBytes: RandomBytes): string {
  return Buffer.from(randomBytes(SECRET_BYTES)).toString('hex');
}

/** Below this many characters a secret is stored with a warning (hosted Pusher issues 20 hex digits). */
export const RECOMMENDED_SECRET_LENGTH = 32;

/** What is weak about a secret the item parser accepts, in words that never quote it; undefined if nothing. */
export function weakSecretWarning(secret: string): string | undefined {
  if (secret.length === 0 || secret.length >= RECOMMENDED_SECRET_LENGTH) return undefined;
  return (
    `the secret is ${secret.length} characters, under the ${RECOMMENDED_SECRET_LENGTH} recommended; ` +
    'stored as given ("apps rotate-secret" replaces it with 64 random hex digits)'
  );
}
