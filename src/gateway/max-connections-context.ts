import { UNLIMITED } from '../apps/app.js';

/**
 * How an app's `maxConnections` travels from the `$connect` authorizer to `$connect` in the authorizer
 * context, so that `$connect` need not read the app again. Context values must be flat, and AWS hands them
 * on as strings, so the value is sent as the string it arrives as (the same on AWS and under serverless-offline):
 * `'-1'` for unlimited, as soketi's items write it, else the limit. A limit no count can reach (beyond 2^53)
 * travels as unlimited, since it could not travel exactly.
 */
export const UNLIMITED_MAX_CONNECTIONS_IN_CONTEXT = -1;

/** A whole number from -1 up, written as `String(number)` writes it (no sign, exponent or leading zero). */
const CONTEXT_FORM = /^(?:-1|0|[1-9][0-9]{0,15})$/;

/**
 * The context value for an app's `maxConnections`: `UNLIMITED` or a count from 0 up, rounded down as the
 * connection counter rounds it. Anything else breaks the `App` convention and throws rather than travel.
 */
export function encodeMaxConnections(maxConnections: number): string {
  if (!(maxConnections >= 0)) {
    throw new RangeError(`maxConnections must be UNLIMITED or at least 0, got ${maxConnections}`);
  }
  const limit = Math.floor(maxConnections);
  return String(Number.isSafeInteger(limit) ? limit : UNLIMITED_MAX_CONNECTIONS_IN_CONTEXT);
}

/**
 * The `maxConnections` a context value stands for (`UNLIMITED` for -1), also from a number (a context written
 * by hand); undefined for anything `encodeMaxConnections` never writes, absence included, so that no caller
 * can mistake a broken context for an unlimited app.
 */
export function decodeMaxConnections(value: unknown): number | undefined {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !CONTEXT_FORM.test(text)) return undefined;
  const maxConnections = Number(text);
  if (!Number.isSafeInteger(maxConnections)) return undefined;
  return maxConnections === UNLIMITED_MAX_CONNECTIONS_IN_CONTEXT ? UNLIMITED : maxConnections;
}
