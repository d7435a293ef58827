import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import Pusher from 'pusher';
import { describe, expect, it, vi } from 'vitest';
import {
  signRequest,
  TIMESTAMP_WINDOW_SECONDS,
  type VerifyFailureReason,
  type VerifyRequestInput,
  verifyRawRequest,
  verifyRequest,
} from '../../../src/protocol/index.js';

const app = { id: '1', key: 'property-key', secret: 'property-secret' };
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'];
const RESERVED = new Set(['auth_key', 'auth_timestamp', 'auth_version', 'auth_signature', 'body_md5']);

type Params = Record<string, string | string[]>;
type Body = string | Uint8Array | undefined;

const text = (maxLength: number, minLength = 0) => fc.string({ unit: 'binary', minLength, maxLength });
const md5Hex = (body: string | Uint8Array) => createHash('md5').update(body).digest('hex');

/**
 * The string to sign as the protocol spells it out (pusher-protocol.md §1.2), written here apart from
 * src/protocol so that a mistake shared by its signer and verifier cannot pass: keys lowercased and sorted
 * by the bytes of their UTF-8 (a stable sort keeps an array's elements in order), one `key=value` per
 * value, values unescaped, `auth_signature` left out.
 */
function referenceStringToSign(method: string, path: string, params: Params): string {
  const pairs = Object.entries(params)
    .map(([key, value]) => ({ name: key.toLowerCase(), values: typeof value === 'string' ? [value] : value }))
    .filter(({ name }) => name !== 'auth_signature')
    .flatMap(({ name, values }) =>
      values.map((value) => ({ bytes: Buffer.from(name), pair: `${name}=${value}` })),
    );
  pairs.sort((a, b) => Buffer.compare(a.bytes, b.bytes));
  return `${method.toUpperCase()}\n${path}\n${pairs.map(({ pair }) => pair).join('&')}`;
}

interface RequestToSign {
  readonly method: string;
  readonly path: string;
  readonly params: Params;
  readonly body: Body;
  readonly timestamp: number;
}

/** The query a client sends: `params`, the auth parameters, and a createHmac over the reference string. */
function referenceSign({ method, path, params, body, timestamp }: RequestToSign): Params {
  const query: Params = {
    ...params,
    auth_key: app.key,
    auth_timestamp: String(timestamp),
    auth_version: '1.0',
  };
  if (body !== undefined && body.length > 0) query.body_md5 = md5Hex(body);
  const toSign = referenceStringToSign(method, path, query);
  query.auth_signature = createHmac('sha256', app.secret).update(toSign).digest('hex');
  return query;
}

/** Pairs in the order given, escaped with encodeURIComponent, or the form way (`+` for a space). */
function rawQueryOf(entries: readonly (readonly [string, string | readonly string[]])[], form: boolean) {
  const escapeForQuery = (value: string) => {
    const escaped = encodeURIComponent(value);
    return form ? escaped.replaceAll('%20', '+') : escaped;
  };
  return entries
    .flatMap(([name, value]) =>
      (typeof value === 'string' ? [value] : value).map(
        (element) => `${escapeForQuery(name)}=${escapeForQuery(element)}`,
      ),
    )
    .join('&');
}

/** A plain name with one value, or a `name[]` array parameter; names unique once lowercased. */
const userParams = (minLength: number) =>
  fc
    .uniqueArray(
      fc.record({
        name: text(12).filter((name) => !RESERVED.has(name.toLowerCase()) && !name.endsWith('[]')),
        values: fc.oneof(text(20), fc.array(text(20), { minLength: 1, maxLength: 4 })),
      }),
      {
        selector: ({ name, values }) => (typeof values === 'string' ? name : `${name}[]`).toLowerCase(),
        minLength,
        maxLength: 6,
      },
    )
    .map(
      (params): Params =>
        Object.fromEntries(
          params.map(({ name, values }) =>
            typeof values === 'string' ? [name, values] : [`${name}[]`, values],
          ),
        ),
    );

interface SignedCase {
  readonly toSign: RequestToSign;
  readonly request: VerifyRequestInput & { readonly params: Params };
  /** The query string as a client sends it: pairs in a random order, escaped the node or the form way. */
  readonly rawQueryString: string;
  readonly encodedPath: string;
}

interface CaseShape {
  /** At least one parameter besides the auth parameters. */
  readonly withParam?: boolean;
  /** A non-empty body, so `body_md5` is signed. */
  readonly withBody?: boolean;
}

const bodies = (nonEmpty: boolean): fc.Arbitrary<Body> =>
  nonEmpty
    ? fc.oneof(text(200, 1), fc.uint8Array({ minLength: 1, maxLength: 200 }))
    : fc.oneof(fc.constant(undefined), text(200), fc.uint8Array({ maxLength: 200 }));

const signedCases = ({ withParam = false, withBody = false }: CaseShape = {}) =>
  fc
    .record({
      method: fc.constantFrom(...METHODS),
      pathSegments: fc.array(text(10), { minLength: 1, maxLength: 4 }),
      params: userParams(withParam ? 1 : 0),
      body: bodies(withBody),
      timestamp: fc.integer({ min: 1_000_000_000, max: 2_000_000_000 }),
      clockOffsetMs: fc.integer({ min: -599_000, max: 599_999 }),
      order: fc.array(fc.double({ noNaN: true }), { minLength: 40, maxLength: 40 }),
      formEncoding: fc.boolean(),
    })
    .map(({ pathSegments, clockOffsetMs, order, formEncoding, ...rest }): SignedCase => {
      const toSign = { ...rest, path: `/${pathSegments.join('/')}` };
      const signed = referenceSign(toSign);
      // Parameters in a random order; the elements of one array keep theirs, as they are signed in order.
      const shuffled = Object.entries(signed)
        .map((entry, index) => ({ entry, rank: order[index % order.length]! }))
        .sort((a, b) => a.rank - b.rank)
        .map(({ entry }) => entry);
      return {
        toSign,
        request: { ...toSign, params: signed, app, now: toSign.timestamp * 1000 + clockOffsetMs },
        rawQueryString: rawQueryOf(shuffled, formEncoding),
        encodedPath: `/${pathSegments.map(encodeURIComponent).join('/')}`,
      };
    });

describe('property: signed requests verify', () => {
  it('2000 random requests signed over the reference string to sign verify, and signRequest signs them alike', () => {
    fc.assert(
      fc.property(signedCases(), ({ toSign, request, rawQueryString, encodedPath }) => {
        expect(verifyRequest(request)).toEqual({ ok: true });
        expect(verifyRawRequest({ ...request, path: encodedPath, rawQueryString })).toEqual({ ok: true });
        expect({ ...signRequest({ ...toSign, key: app.key, secret: app.secret }) }).toEqual(request.params);
      }),
      { numRuns: 2000 },
    );
  });

  /**
   * Within what the node SDK signs as the protocol does: names already lowercase (it does not lowercase
   * them), below U+D800 (it sorts by UTF-16 code unit, not byte order), neither reserved (it throws) nor
   * `__proto__` (its plain object drops it); one value per name (it comma-joins arrays); a string body.
   */
  const sdkName = fc
    .string({
      unit: fc.integer({ min: 0, max: 0xd7ff }).map((code) => String.fromCharCode(code)),
      maxLength: 12,
    })
    .map((name) => name.toLowerCase())
    .filter((name) => !RESERVED.has(name) && name !== '__proto__');
  const sdkCases = fc.record({
    method: fc.constantFrom(...METHODS),
    path: fc.array(text(10), { minLength: 1, maxLength: 4 }).map((segments) => `/${segments.join('/')}`),
    params: fc.dictionary(sdkName, text(20), { maxKeys: 6 }),
    body: fc.option(text(200), { nil: undefined }),
    timestamp: fc.integer({ min: 1_000_000_000, max: 2_000_000_000 }),
    formEncoding: fc.boolean(),
  });

  it("1000 random requests signed by the pusher SDK's createSignedQueryString verify", () => {
    // Only signs: the host is never contacted.
    const pusher = new Pusher({ appId: app.id, key: app.key, secret: app.secret, host: '127.0.0.1' });
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      fc.assert(
        fc.property(sdkCases, ({ formEncoding, ...toSign }) => {
          const { method, path, params, body, timestamp } = toSign;
          vi.setSystemTime(timestamp * 1000);
          // The SDK returns values unescaped, so its string cannot be parsed back as a query: its signature is taken.
          const sdkQuery = pusher.createSignedQueryString({ method, path, params, body });
          const signature = /&auth_signature=([0-9a-f]{64})$/.exec(sdkQuery)?.[1];
          expect(signature).toBeDefined();
          const signed = { ...referenceSign(toSign), auth_signature: signature! };
          // The SDK's unescaped query is the reference's PARAMS: the reference itself is checked here.
          const referenceParams = referenceStringToSign(method, path, signed).slice(
            `${method}\n${path}\n`.length,
          );
          expect(sdkQuery).toBe(`${referenceParams}&auth_signature=${signature}`);

          const request = { method, path, params: signed, body, app, now: timestamp * 1000 };
          expect(verifyRequest(request)).toEqual({ ok: true });
          const rawQueryString = rawQueryOf(Object.entries(signed), formEncoding);
          expect(verifyRawRequest({ ...request, path: encodeURI(path), rawQueryString })).toEqual({
            ok: true,
          });
        }),
        { numRuns: 1000 },
      );
    } finally {
      vi.useRealTimers();
    }
  });
});

type Request = SignedCase['request'];
interface MutatedRequest {
  readonly request: VerifyRequestInput;
  /** Why the verifier must reject it: for a change that leaves the auth parameters valid, never a presence check. */
  readonly reason: VerifyFailureReason;
}
interface Mutation {
  readonly cases: fc.Arbitrary<SignedCase>;
  readonly mutate: (request: Request, pick: number, extra: string) => MutatedRequest;
}

const nonEmpty = (extra: string) => extra || 'x';
const userNames = (params: Params) => Object.keys(params).filter((name) => !RESERVED.has(name.toLowerCase()));
const AUTH_NAMES = ['auth_key', 'auth_timestamp', 'auth_version'];
const withParams = (request: Request, changes: Params): VerifyRequestInput => ({
  ...request,
  params: { ...request.params, ...changes },
});
const appended = (body: string | Uint8Array): string | Uint8Array =>
  typeof body === 'string' ? `${body}x` : Buffer.concat([body, Buffer.from([0])]);

/** `name` renamed with a prefix, so its lowercased form changes too (case alone is not signed, by design). */
function renamed(request: Request, name: string): VerifyRequestInput {
  const taken = new Set(Object.keys(request.params).map((key) => key.toLowerCase()));
  let rename = `z${name}`;
  while (taken.has(rename.toLowerCase())) rename = `z${rename}`;
  const { [name]: value, ...rest } = request.params;
  return { ...request, params: { ...rest, [rename]: value! } };
}

const MUTATIONS: Record<string, Mutation> = {
  'the method': {
    cases: signedCases(),
    mutate: (request, pick) => {
      const others = METHODS.filter((method) => method !== request.method);
      return { request: { ...request, method: others[pick % others.length]! }, reason: 'invalid-signature' };
    },
  },
  'the path': {
    cases: signedCases(),
    mutate: (request, pick, extra) => ({
      request: {
        ...request,
        path: pick % 2 === 0 ? `${request.path}${nonEmpty(extra)}` : `${nonEmpty(extra)}${request.path}`,
      },
      reason: 'invalid-signature',
    }),
  },
  'a parameter name': {
    cases: signedCases({ withParam: true }),
    mutate: (request, pick) => {
      const names = userNames(request.params);
      return { request: renamed(request, names[pick % names.length]!), reason: 'invalid-signature' };
    },
  },
  'a parameter value': {
    cases: signedCases({ withParam: true }),
    mutate: (request, pick, extra) => {
      const names = userNames(request.params);
      const name = names[pick % names.length]!;
      const value = request.params[name]!;
      let changed: string | string[];
      if (typeof value === 'string') changed = `${value}${nonEmpty(extra)}`;
      else if (value.length > 1 && value[0] !== value[1] && pick % 2 === 0)
        changed = [value[1]!, value[0]!, ...value.slice(2)];
      else
        changed = value.map((element, index) =>
          index === pick % value.length ? `${element}${nonEmpty(extra)}` : element,
        );
      return { request: withParams(request, { [name]: changed }), reason: 'invalid-signature' };
    },
  },
  'the body, body_md5 kept': {
    cases: signedCases({ withBody: true }),
    mutate: (request) => ({
      request: { ...request, body: appended(request.body!) },
      reason: 'body-md5-mismatch',
    }),
  },
  'the body, with its new body_md5 unsigned': {
    cases: signedCases(),
    mutate: (request, _, extra) => {
      const body = request.body ? appended(request.body) : nonEmpty(extra);
      return {
        request: { ...withParams(request, { body_md5: md5Hex(body) }), body },
        reason: 'invalid-signature',
      };
    },
  },
  'body_md5, to that of another body': {
    cases: signedCases({ withBody: true }),
    mutate: (request) => ({
      request: withParams(request, { body_md5: md5Hex(appended(request.body!)) }),
      reason: 'invalid-signature',
    }),
  },
  'the timestamp, beyond the window': {
    cases: signedCases(),
    mutate: (request, pick) => {
      const seconds = Number(request.params.auth_timestamp);
      const distance = TIMESTAMP_WINDOW_SECONDS + (pick % 100_000);
      return {
        request: { ...request, now: (seconds + (pick % 2 === 0 ? distance : -distance)) * 1000 },
        reason: 'timestamp-expired',
      };
    },
  },
  'auth_timestamp, by a second within the window': {
    cases: signedCases(),
    mutate: (request) => {
      const signedAt = Number(request.params.auth_timestamp);
      const toward = Math.floor(request.now! / 1000) > signedAt ? 1 : -1;
      return {
        request: withParams(request, { auth_timestamp: String(signedAt + toward) }),
        reason: 'invalid-signature',
      };
    },
  },
  'the signature': {
    cases: signedCases(),
    mutate: (request, pick) => {
      const signature = request.params.auth_signature as string;
      const index = pick % signature.length;
      const digit = signature[index] === '0' ? '1' : '0';
      return {
        request: withParams(request, {
          auth_signature: `${signature.slice(0, index)}${digit}${signature.slice(index + 1)}`,
        }),
        reason: 'invalid-signature',
      };
    },
  },
  'auth_key or auth_version': {
    cases: signedCases(),
    mutate: (request, pick, extra) =>
      pick % 2 === 0
        ? {
            request: withParams(request, { auth_key: `${app.key}${nonEmpty(extra)}` }),
            reason: 'unknown-key',
          }
        : {
            request: withParams(request, { auth_version: `1.0${nonEmpty(extra)}` }),
            reason: 'unsupported-version',
          },
  },
  'an auth parameter name': {
    cases: signedCases(),
    mutate: (request, pick) => ({
      request: renamed(request, AUTH_NAMES[pick % AUTH_NAMES.length]!),
      reason: 'malformed-request',
    }),
  },
};

describe('property: changing any one signed element is rejected, for that change', () => {
  it.each(Object.entries(MUTATIONS))(
    '%s: 500 random mutated requests are rejected',
    (_, { cases, mutate }) => {
      fc.assert(
        fc.property(cases, fc.nat(), text(5), ({ request }, pick, extra) => {
          expect(verifyRequest(request)).toEqual({ ok: true });
          const { request: mutated, reason } = mutate(request, pick, extra);
          expect(verifyRequest(mutated)).toMatchObject({ ok: false, reason });
        }),
        { numRuns: 500 },
      );
    },
  );
});
