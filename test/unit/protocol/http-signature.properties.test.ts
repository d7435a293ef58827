import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  signRequest,
  TIMESTAMP_WINDOW_SECONDS,
  type VerifyRequestInput,
  verifyRawRequest,
  verifyRequest,
} from '../../../src/protocol/index.js';

const app = { key: 'property-key', secret: 'property-secret' };
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'];
const RESERVED = new Set(['auth_key', 'auth_timestamp', 'auth_version', 'auth_signature', 'body_md5']);

const text = (maxLength: number) => fc.string({ unit: 'binary', maxLength });

/** A plain name with one value, or a `name[]` array parameter; names unique once lowercased. */
const userParams = fc
  .uniqueArray(
    fc.record({
      name: text(12).filter((name) => !RESERVED.has(name.toLowerCase()) && !name.endsWith('[]')),
      values: fc.oneof(text(20), fc.array(text(20), { minLength: 1, maxLength: 4 })),
    }),
    {
      selector: ({ name, values }) => (typeof values === 'string' ? name : `${name}[]`).toLowerCase(),
      maxLength: 6,
    },
  )
  .map((params) =>
    Object.fromEntries(
      params.map(({ name, values }) => (typeof values === 'string' ? [name, values] : [`${name}[]`, values])),
    ),
  );

interface SignedCase {
  readonly request: VerifyRequestInput & { readonly params: Record<string, string | string[]> };
  /** The query string as a client sends it: pairs in a random order, escaped the node or the form way. */
  readonly rawQueryString: string;
  readonly encodedPath: string;
}

const signedCases = fc
  .record({
    method: fc.constantFrom(...METHODS),
    pathSegments: fc.array(text(10), { minLength: 1, maxLength: 4 }),
    params: userParams,
    body: fc.oneof(fc.constant(undefined), text(200), fc.uint8Array({ maxLength: 200 })),
    timestamp: fc.integer({ min: 1_000_000_000, max: 2_000_000_000 }),
    clockOffsetMs: fc.integer({ min: -599_000, max: 599_999 }),
    order: fc.array(fc.double({ noNaN: true }), { minLength: 40, maxLength: 40 }),
    formEncoding: fc.boolean(),
  })
  .map(
    ({ method, pathSegments, params, body, timestamp, clockOffsetMs, order, formEncoding }): SignedCase => {
      const path = `/${pathSegments.join('/')}`;
      const signed = signRequest({ method, path, params, body, key: app.key, secret: app.secret, timestamp });
      const escapeForQuery = (value: string) => {
        const escaped = encodeURIComponent(value);
        return formEncoding ? escaped.replaceAll('%20', '+') : escaped;
      };
      // Parameters in a random order; the elements of one array keep theirs, as they are signed in order.
      const shuffled = Object.entries(signed)
        .map(([name, value], index) => ({ name, value, rank: order[index % order.length]! }))
        .sort((a, b) => a.rank - b.rank)
        .flatMap(({ name, value }) =>
          (typeof value === 'string' ? [value] : value).map(
            (element) => `${escapeForQuery(name)}=${escapeForQuery(element)}`,
          ),
        );
      return {
        request: { method, path, params: signed, body, app, now: timestamp * 1000 + clockOffsetMs },
        rawQueryString: shuffled.join('&'),
        encodedPath: `/${pathSegments.map(encodeURIComponent).join('/')}`,
      };
    },
  );

describe('property: signed requests verify', () => {
  it('2000 random signed requests verify, from decoded params and from the raw query string', () => {
    fc.assert(
      fc.property(signedCases, ({ request, rawQueryString, encodedPath }) => {
        expect(verifyRequest(request)).toEqual({ ok: true });
        expect(verifyRawRequest({ ...request, path: encodedPath, rawQueryString })).toEqual({ ok: true });
      }),
      { numRuns: 2000 },
    );
  });
});

type Mutation = (request: SignedCase['request'], pick: number, extra: string) => VerifyRequestInput;

const nonEmpty = (extra: string) => extra || 'x';
const signedNames = (params: Record<string, unknown>) =>
  Object.keys(params).filter((name) => name !== 'auth_signature');

const MUTATIONS: Record<string, Mutation> = {
  method: (request, pick) => {
    const others = METHODS.filter((method) => method !== request.method);
    return { ...request, method: others[pick % others.length]! };
  },
  path: (request, pick, extra) => ({
    ...request,
    path: pick % 2 === 0 ? `${request.path}${nonEmpty(extra)}` : `${nonEmpty(extra)}${request.path}`,
  }),
  'a parameter name': (request, pick) => {
    const names = signedNames(request.params);
    const name = names[pick % names.length]!;
    const { [name]: value, ...rest } = request.params;
    // A prefix changes the lowercased name too (case alone is not signed, by design).
    return { ...request, params: { ...rest, [`z${name}`]: value! } };
  },
  'a parameter value': (request, pick, extra) => {
    const names = signedNames(request.params);
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
    return { ...request, params: { ...request.params, [name]: changed } };
  },
  'the body': (request, _, extra) => {
    const { body } = request;
    if (body === undefined || body === null || body.length === 0)
      return { ...request, body: nonEmpty(extra) };
    return {
      ...request,
      body: typeof body === 'string' ? `${body}${nonEmpty(extra)}` : Buffer.concat([body, Buffer.from([0])]),
    };
  },
  'the timestamp, beyond the window': (request, pick) => {
    const seconds = Number(request.params.auth_timestamp);
    const distance = TIMESTAMP_WINDOW_SECONDS + (pick % 100_000);
    return { ...request, now: (seconds + (pick % 2 === 0 ? distance : -distance)) * 1000 };
  },
  'the signature': (request, pick) => {
    const signature = request.params.auth_signature as string;
    const index = pick % signature.length;
    const digit = signature[index] === '0' ? '1' : '0';
    return {
      ...request,
      params: {
        ...request.params,
        auth_signature: `${signature.slice(0, index)}${digit}${signature.slice(index + 1)}`,
      },
    };
  },
};

describe('property: changing any one signed element is rejected', () => {
  it.each(Object.entries(MUTATIONS))('%s: 500 random mutated requests are rejected', (_, mutate) => {
    fc.assert(
      fc.property(signedCases, fc.nat(), text(5), ({ request }, pick, extra) => {
        expect(verifyRequest(request)).toEqual({ ok: true });
        const result = verifyRequest(mutate(request, pick, extra));
        if (result.ok) throw new Error('a mutated request verified');
        expect([400, 401]).toContain(result.status);
      }),
      { numRuns: 500 },
    );
  });
});
