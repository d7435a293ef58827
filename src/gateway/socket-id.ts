import { isValidSocketId } from '../protocol/validation.js';

// A Pusher socket id must match ^\d+\.\d+$ (every server SDK checks it), while API Gateway connection ids
// look like `Df14mfUXIAMCIyg=` and serverless-offline's are UUIDs. The socket id is the connection id's
// UTF-8 bytes, behind a 0x01 marker byte (so leading zero bytes survive), read as one big-endian integer and
// written in decimal, with a dot inside. Decoding reverses it, so no mapping is stored and any string works,
// whatever format AWS uses next.

const MARKER = 0x01;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The Pusher socket id of an API Gateway connection id. Throws for an empty connection id. */
export function socketIdOf(connectionId: string): string {
  if (connectionId === '') throw new RangeError('A connection id cannot be empty');
  const bytes = Buffer.concat([Buffer.of(MARKER), Buffer.from(connectionId, 'utf8')]);
  const digits = BigInt(`0x${bytes.toString('hex')}`).toString(10);
  const cut = splitPosition(digits);
  return `${digits.slice(0, cut)}.${digits.slice(cut)}`;
}

/**
 * The connection id a socket id stands for, or undefined when it is not one this server issued (not
 * `<digits>.<digits>`, not carrying the marker, not UTF-8, or not written the way `socketIdOf` writes it:
 * each connection has exactly one socket id).
 */
export function connectionIdOf(socketId: unknown): string | undefined {
  if (!isValidSocketId(socketId)) return undefined;
  const hex = BigInt(socketId.replace('.', '')).toString(16);
  const bytes = Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex');
  if (bytes.length < 2 || bytes[0] !== MARKER) return undefined;
  let connectionId: string;
  try {
    connectionId = UTF8.decode(bytes.subarray(1));
  } catch {
    return undefined;
  }
  return socketIdOf(connectionId) === socketId ? connectionId : undefined;
}

// The dot goes near the middle, moved right past zeros so the second run never starts with 0: some
// backends may store socket ids as two numbers. Values always have at least three digits (the marker
// makes them ≥ 256), so both runs are non-empty.
function splitPosition(digits: string): number {
  const middle = Math.ceil(digits.length / 2);
  for (let cut = middle; cut < digits.length; cut++) if (digits[cut] !== '0') return cut;
  return digits.length - 1;
}
