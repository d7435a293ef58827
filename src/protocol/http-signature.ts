import { hash } from 'node:crypto';
import type { App } from '../apps/app.js';
import { InvalidQueryStringError, InvalidRequestToSignError } from '../errors/errors.js';
import { quoteForMessage } from '../errors/format.js';
import { hexSignatureEquals, hmacSha256Hex } from './hmac.js';
import { decodeQueryPairs } from './query.js';

/** The only auth_version Pusher defines. */
export const AUTH_VERSION = '1.0';
/** A request is accepted while |now − auth_timestamp| < this many seconds (599 passes, 600 fails). */
export const TIMESTAMP_WINDOW_SECONDS = 600;
/** MD5 of the empty string: python's SDK sends it as body_md5 on every GET. */
export const EMPTY_BODY_MD5 = 'd41d8cd98f00b204e9800998ecf8427e';

const RESERVED_PARAMS = new Set(['auth_key', 'auth_timestamp', 'auth_version', 'auth_signature', 'body_md5']);
// At most 15 digits, so Number() is exact; anything longer is far outside the window anyway.
const TIMESTAMP = /^\d{1,15}$/;
const NEWLINE = /\n/g;
const INSERTION_SORT_LIMIT = 16;

/**
 * Query parameters as a verifier receives them: decoded, a value a string or an array (API Gateway REST's
 * `multiValueQueryStringParameters`, or `parseQueryString`). Undefined values are ignored, so API Gateway's
 * maps can be passed as they are.
 */
export type RequestParams = Readonly<Record<string, string | readonly string[] | undefined>>;

/** Why a request failed, as a short code that is safe to log (the message may quote the client's signature). */
export type VerifyFailureReason =
  | 'malformed-request'
  | 'unknown-key'
  | 'unsupported-version'
  | 'timestamp-expired'
  | 'invalid-signature'
  | 'body-md5-missing'
  | 'body-md5-mismatch';

export type VerifyFailure = {
  readonly ok: false;
  readonly status: 400 | 401;
  readonly reason: VerifyFailureReason;
  readonly message: string;
};
/**
 * With `skipBodyCheck`, a success carries the `body_md5` value the signature covers (read as the verifier reads
 * it: decoded, name in any case), for the integration that sees the body to check it against.
 */
export type VerifyResult = { readonly ok: true; readonly bodyMd5?: string } | VerifyFailure;

export interface StringToSignInput {
  readonly method: string;
  readonly path: string;
  readonly params: RequestParams;
}

export interface SignRequestInput extends StringToSignInput {
  /** The exact body to send; a non-empty body adds `body_md5`. A string is sent as UTF-8. */
  readonly body?: string | Uint8Array;
  readonly key: string;
  readonly secret: string;
  /** Unix time in seconds; defaults to now. */
  readonly timestamp?: number;
}

interface BodyInput {
  /** The raw body, or its base64 form when `isBase64Encoded` (API Gateway's flag) is set. */
  readonly body?: string | Uint8Array | null;
  readonly isBase64Encoded?: boolean;
}

interface VerifyOptions extends BodyInput {
  readonly method: string;
  /** The path the client signed: no query string, stage or base-path prefix already removed. */
  readonly path: string;
  /**
   * Set only where the body cannot be seen (a Lambda authorizer). The signature, which binds the client's
   * `body_md5` value, is still verified; the integration must then call `verifyRequestBody`.
   */
  readonly skipBodyCheck?: boolean;
  readonly app: Pick<App, 'key' | 'secret'>;
  /** The server clock in milliseconds since the epoch (`Date.now()`, the default). */
  readonly now?: number;
}

export interface VerifyRequestInput extends VerifyOptions {
  readonly params: RequestParams;
}

export interface VerifyRawRequestInput extends VerifyOptions {
  /** The query string without its `?`, as sent (API Gateway HTTP API's `rawQueryString`). */
  readonly rawQueryString: string;
}

export interface VerifyRequestBodyInput extends BodyInput {
  readonly params: RequestParams;
}

interface SignedParam {
  /** The key, lowercased. */
  readonly name: string;
  readonly value: string | readonly string[];
}

/** The parameters of a request, split for signing. */
interface SplitParams {
  /** Every parameter but auth_signature, sorted by name in UTF-8 byte order (see `sortByName`). */
  readonly signed: SignedParam[];
  readonly signature: string | readonly string[] | undefined;
  /** Set when two keys lowercase to auth_signature. */
  readonly signatureRepeated: boolean;
}

/** What the verifier reads from the signed parameters, in one pass. */
interface AuthParams {
  /** A name given more than once where a single value is expected; the rest is then unset. */
  readonly repeatedName?: string;
  readonly authKey?: string;
  readonly authTimestamp?: string;
  readonly authVersion?: string;
  readonly bodyMd5?: string;
}

/**
 * The string an HTTP API request signs: `METHOD\nPATH\nPARAMS`, where PARAMS is every parameter except
 * `auth_signature`, keys lowercased and sorted by byte order, values unescaped, each array element as its
 * own `key=value` pair (so `channels[]` holding `a` and `b` gives `channels[]=a&channels[]=b`).
 */
export function stringToSign({ method, path, params }: StringToSignInput): string {
  return joinStringToSign(method, path, splitParams(params).signed);
}

/**
 * Signs an HTTP API request the way the official SDKs do. Returns the query parameters to send:
 * `params` plus `auth_key`, `auth_timestamp`, `auth_version`, `body_md5` (with a non-empty body) and
 * `auth_signature`. Encode them with `encodeURIComponent`, or as form data.
 *
 * @throws InvalidRequestToSignError when `params` holds a reserved name (`auth_*`, `body_md5`) or a name
 *   twice (after lowercasing, or a plain key with several values: name array parameters `key[]`).
 */
export function signRequest(input: SignRequestInput): Record<string, string | string[]> {
  // No prototype: a parameter named __proto__ stays an ordinary parameter.
  const query: Record<string, string | string[]> = Object.create(null);
  for (const [name, value] of Object.entries(input.params)) {
    if (value === undefined) continue;
    if (RESERVED_PARAMS.has(name.toLowerCase())) {
      throw new InvalidRequestToSignError(
        `${name} is set by signRequest and cannot be passed as a parameter`,
      );
    }
    query[name] = typeof value === 'string' ? value : [...value];
  }
  query.auth_key = input.key;
  query.auth_timestamp = String(input.timestamp ?? Math.floor(Date.now() / 1000));
  query.auth_version = AUTH_VERSION;
  if (input.body !== undefined && input.body.length > 0) query.body_md5 = md5Hex(input.body);

  const { signed } = splitParams(query);
  const { repeatedName: repeated } = readAuthParams(signed);
  if (repeated !== undefined) {
    throw new InvalidRequestToSignError(
      `Parameter ${quoteForMessage(repeated)} is given more than once; name array parameters "<key>[]"`,
    );
  }
  query.auth_signature = hmacSha256Hex(input.secret, joinStringToSign(input.method, input.path, signed));
  return query;
}

/**
 * Verifies a signed HTTP API request against the app's key and secret, in this order: no parameter given
 * twice (400), `auth_key` present (400) and equal to the app's key (400 `Unknown auth_key`, as Pusher answers
 * an unknown key), `auth_version` 1.0 (400), `auth_timestamp` numeric (400) and within the window (401),
 * `auth_signature` present (400) and correct (401), then, unless `skipBodyCheck`, the body against `body_md5`
 * (see `verifyRequestBody`). Never throws on bad input.
 */
export function verifyRequest(input: VerifyRequestInput): VerifyResult {
  return verifySplit(input, input.path, splitParams(input.params));
}

/**
 * Parses `rawQueryString` as `parseQueryString` does, then verifies like `verifyRequest`. Use this with API
 * Gateway HTTP APIs, whose `queryStringParameters` comma-join repeated keys. A percent-escaped `path` is
 * decoded first (Pusher paths never contain a literal `%`). A malformed escape is a 400, never a throw.
 */
export function verifyRawRequest(input: VerifyRawRequestInput): VerifyResult {
  let pairs: string[];
  try {
    pairs = decodeQueryPairs(input.rawQueryString);
  } catch (error) {
    if (error instanceof InvalidQueryStringError) return failure(400, 'malformed-request', error.message);
    throw error;
  }
  const path = decodePath(input.path);
  if (path === undefined) {
    return failure(
      400,
      'malformed-request',
      `Invalid path: malformed percent-encoding in ${quoteForMessage(input.path)}`,
    );
  }
  return verifySplit(input, path, splitPairs(pairs));
}

/**
 * The second stage after a verification with `skipBodyCheck` (the authorizer never sees the body): with a
 * non-empty body, `body_md5` must be present (400) and equal the MD5 of the raw body bytes, base64-decoded
 * first when `isBase64Encoded` (401, like a signature failure, as soketi answers); with an empty body a
 * `body_md5` is accepted only as the MD5 of the empty string (python's SDK sends it on GET).
 */
export function verifyRequestBody(input: VerifyRequestBodyInput): VerifyResult {
  const { repeatedName, bodyMd5 } = readAuthParams(splitParams(input.params).signed);
  return repeatedName === undefined ? checkBody(bodyMd5, input) : givenTwice(repeatedName);
}

function verifySplit(input: VerifyOptions, path: string, split: SplitParams): VerifyResult {
  const { signed, signature } = split;
  if (split.signatureRepeated) return givenTwice('auth_signature');
  const { repeatedName, authKey, authVersion, authTimestamp, bodyMd5 } = readAuthParams(signed);
  if (repeatedName !== undefined) return givenTwice(repeatedName);

  if (authKey === undefined) return failure(400, 'malformed-request', 'Missing parameter: auth_key');
  if (authKey !== input.app.key) return failure(400, 'unknown-key', 'Unknown auth_key');

  if (authVersion === undefined) return failure(400, 'malformed-request', 'Version required');
  if (authVersion !== AUTH_VERSION) return failure(400, 'unsupported-version', 'Version not supported');

  if (authTimestamp === undefined) return failure(400, 'malformed-request', 'Timestamp required');
  if (!TIMESTAMP.test(authTimestamp)) {
    return failure(
      400,
      'malformed-request',
      `Invalid auth_timestamp: expected a Unix time in seconds, but you sent ${quoteForMessage(authTimestamp)}`,
    );
  }
  const timestamp = Number(authTimestamp);
  const nowSeconds = Math.floor((input.now ?? Date.now()) / 1000);
  if (Math.abs(nowSeconds - timestamp) >= TIMESTAMP_WINDOW_SECONDS) {
    return failure(
      401,
      'timestamp-expired',
      `Timestamp expired: Given timestamp (${formatUtc(timestamp)}) not within ${TIMESTAMP_WINDOW_SECONDS}s of server time (${formatUtc(nowSeconds)})`,
    );
  }

  const sentSignature = typeof signature === 'string' ? signature : signature?.[0];
  if (sentSignature === undefined)
    return failure(400, 'malformed-request', 'Missing parameter: auth_signature');
  const toSign = joinStringToSign(input.method, path, signed);
  if (!hexSignatureEquals(hmacSha256Hex(input.app.secret, toSign), sentSignature)) {
    return failure(
      401,
      'invalid-signature',
      `Invalid signature: you should have sent HmacSHA256Hex("${escapeNewlines(toSign)}", your_secret_key), but you sent "${escapeNewlines(sentSignature)}"`,
    );
  }

  if (input.skipBodyCheck !== true) return checkBody(bodyMd5, input);
  return bodyMd5 === undefined ? VERIFIED : { ok: true, bodyMd5 };
}

const VERIFIED: VerifyResult = Object.freeze({ ok: true });

function checkBody(sentMd5: string | undefined, { body, isBase64Encoded }: BodyInput): VerifyResult {
  const bytes = typeof body === 'string' && isBase64Encoded === true ? Buffer.from(body, 'base64') : body;
  if (bytes === undefined || bytes === null || bytes.length === 0) {
    if (sentMd5 === undefined || sentMd5 === EMPTY_BODY_MD5) return VERIFIED;
    return bodyMd5Mismatch(EMPTY_BODY_MD5, sentMd5);
  }
  if (sentMd5 === undefined) {
    return failure(400, 'body-md5-missing', 'Missing parameter: body_md5 (required with a request body)');
  }
  const actualMd5 = md5Hex(bytes);
  return actualMd5 === sentMd5 ? VERIFIED : bodyMd5Mismatch(actualMd5, sentMd5);
}

function bodyMd5Mismatch(actualMd5: string, sentMd5: string): VerifyFailure {
  return failure(
    401,
    'body-md5-mismatch',
    `Invalid body_md5: you should have sent the MD5 hex of the request body, "${actualMd5}", but you sent ${quoteForMessage(sentMd5)}`,
  );
}

function splitParams(params: RequestParams): SplitParams {
  const signed: SignedParam[] = [];
  let signature: string | readonly string[] | undefined;
  let signatureRepeated = false;
  for (const key of Object.keys(params)) {
    const value = params[key];
    if (value === undefined) continue;
    const name = key.toLowerCase();
    if (name !== 'auth_signature') {
      signed.push({ name, value });
    } else {
      signatureRepeated ||= signature !== undefined || (typeof value !== 'string' && value.length > 1);
      signature = value;
    }
  }
  return { signed: sortByName(signed), signature, signatureRepeated };
}

/** Like `splitParams`, from `decodeQueryPairs` output: a repeated key is two adjacent entries. */
function splitPairs(pairs: readonly string[]): SplitParams {
  const signed: SignedParam[] = [];
  let signature: string | undefined;
  let signatureRepeated = false;
  for (let i = 0; i < pairs.length; i += 2) {
    const name = pairs[i]!.toLowerCase();
    const value = pairs[i + 1]!;
    if (name !== 'auth_signature') {
      signed.push({ name, value });
    } else {
      signatureRepeated ||= signature !== undefined;
      signature = value;
    }
  }
  return { signed: sortByName(signed), signature, signatureRepeated };
}

/**
 * Reads the auth parameters and finds a name given more than once: a plain name holding several values,
 * or two keys that lowercase to the same name. Only names ending in `[]` may hold several values.
 */
function readAuthParams(signed: readonly SignedParam[]): AuthParams {
  let authKey: string | undefined;
  let authTimestamp: string | undefined;
  let authVersion: string | undefined;
  let bodyMd5: string | undefined;
  let previousName: string | undefined;
  for (const { name, value } of signed) {
    const several = typeof value !== 'string' && value.length > 1;
    if ((several || name === previousName) && !name.endsWith('[]')) return { repeatedName: name };
    previousName = name;
    const single = typeof value === 'string' ? value : value[0];
    if (name === 'auth_key') authKey = single;
    else if (name === 'auth_timestamp') authTimestamp = single;
    else if (name === 'auth_version') authVersion = single;
    else if (name === 'body_md5') bodyMd5 = single;
  }
  return { authKey, authTimestamp, authVersion, bodyMd5 };
}

function joinStringToSign(method: string, path: string, signed: readonly SignedParam[]): string {
  let result = `${method.toUpperCase()}\n${path}\n`;
  let separator = '';
  for (const { name, value } of signed) {
    if (typeof value === 'string') {
      result += `${separator}${name}=${value}`;
      separator = '&';
    } else {
      for (const element of value) {
        result += `${separator}${name}=${element}`;
        separator = '&';
      }
    }
  }
  return result;
}

/**
 * Sorts by name in UTF-8 byte order, which is code point order (plain `<` compares UTF-16 code units).
 * Array.prototype.sort is stable, so entries with one name keep the order received.
 */
function sortByName(signed: SignedParam[]): SignedParam[] {
  if (signed.length > INSERTION_SORT_LIMIT) return signed.sort(byName);
  // A typical request has about five parameters, often already in order: an insertion sort is cheaper than
  // a call into the built-in sort, and stable too.
  for (let i = 1; i < signed.length; i++) {
    const entry = signed[i]!;
    let j = i - 1;
    while (j >= 0 && byName(signed[j]!, entry) > 0) {
      signed[j + 1] = signed[j]!;
      j--;
    }
    signed[j + 1] = entry;
  }
  return signed;
}

function byName(a: SignedParam, b: SignedParam): number {
  const left = a.name;
  const right = b.name;
  if (left === right) return 0;
  const shorter = Math.min(left.length, right.length);
  for (let i = 0; i < shorter; i++) {
    const l = left.charCodeAt(i);
    const r = right.charCodeAt(i);
    if (l !== r) return codePointRank(l) - codePointRank(r);
  }
  return left.length - right.length;
}

/** Moves surrogates (code points above U+FFFF) after U+E000–U+FFFF, as UTF-8 byte order has them. */
function codePointRank(codeUnit: number): number {
  if (codeUnit < 0xd800) return codeUnit;
  return codeUnit < 0xe000 ? codeUnit + 0x2000 : codeUnit - 0x800;
}

/** The path percent-decoded, or undefined when an escape is malformed. */
function decodePath(path: string): string | undefined {
  if (!path.includes('%')) return path;
  try {
    return decodeURIComponent(path);
  } catch {
    return undefined;
  }
}

function md5Hex(body: string | Uint8Array): string {
  return hash('md5', body, 'hex');
}

/** Formats Unix seconds as Pusher does in its messages: `YYYY-MM-DDTHH:MM:SSZ`, UTC. */
function formatUtc(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? String(seconds) : date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function escapeNewlines(text: string): string {
  return text.replace(NEWLINE, '\\n');
}

function givenTwice(name: string): VerifyFailure {
  return failure(400, 'malformed-request', `Parameter ${quoteForMessage(name)} is given more than once`);
}

function failure(
  status: VerifyFailure['status'],
  reason: VerifyFailureReason,
  message: string,
): VerifyFailure {
  return { ok: false, status, reason, message };
}
