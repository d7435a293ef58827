import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidRequestToSignError } from '../../../src/errors/errors.js';
import {
  EMPTY_BODY_MD5,
  type RequestParams,
  signRequest,
  stringToSign,
  type VerifyRequestInput,
  verifyRawRequest,
  verifyRequest,
  verifyRequestBody,
} from '../../../src/protocol/index.js';
import { DOCS_APP, DOCS_TRIGGER, GEM } from '../../fixtures/protocol/vectors.js';

const docsApp = { key: DOCS_APP.key, secret: DOCS_APP.secret };
const docsNow = DOCS_TRIGGER.timestamp * 1000;

/** The docs' worked example as a client sends it, from the published values only. */
const docsParams: Readonly<Record<string, string>> = {
  auth_key: DOCS_APP.key,
  auth_timestamp: String(DOCS_TRIGGER.timestamp),
  auth_version: '1.0',
  body_md5: DOCS_TRIGGER.bodyMd5,
  auth_signature: DOCS_TRIGGER.signature,
};

function docsRequest(overrides: Partial<VerifyRequestInput> = {}): VerifyRequestInput {
  return {
    method: DOCS_TRIGGER.method,
    path: DOCS_TRIGGER.path,
    params: docsParams,
    body: DOCS_TRIGGER.body,
    app: docsApp,
    now: docsNow,
    ...overrides,
  };
}

/** Signs with a bare createHmac over a string to sign written out by hand, independent of the code tested. */
function handSigned(toSign: string, params: Record<string, string>, secret = docsApp.secret): RequestParams {
  return { ...params, auth_signature: createHmac('sha256', secret).update(toSign).digest('hex') };
}

describe('test vectors (pusher-protocol.md §9)', () => {
  it('reproduces the docs HTTP trigger: body_md5, string to sign and signature', () => {
    const params = signRequest({
      method: 'POST',
      path: DOCS_TRIGGER.path,
      params: {},
      body: DOCS_TRIGGER.body,
      key: DOCS_APP.key,
      secret: DOCS_APP.secret,
      timestamp: DOCS_TRIGGER.timestamp,
    });
    expect(params).toEqual(docsParams);
    expect(stringToSign({ method: 'POST', path: DOCS_TRIGGER.path, params })).toBe(DOCS_TRIGGER.stringToSign);
  });

  it('verifies the docs HTTP trigger', () => {
    expect(verifyRequest(docsRequest())).toEqual({ ok: true });
  });

  it.each(GEM.vectors)(
    'reproduces the gem vector $signature',
    ({ params, stringToSign: expected, signature }) => {
      const signed = signRequest({ ...GEM, params, key: GEM.app.key, secret: GEM.app.secret });
      expect(stringToSign({ method: GEM.method, path: GEM.path, params: signed })).toBe(expected);
      expect(signed.auth_signature).toBe(signature);
      expect(verifyRequest({ ...GEM, params: signed, app: GEM.app, now: GEM.timestamp * 1000 })).toEqual({
        ok: true,
      });
    },
  );

  it('gives the gem signature for upper-case keys, which are lowercased before signing', () => {
    const params = {
      Query: 'params',
      GO: 'here',
      auth_key: 'key',
      auth_timestamp: '1234',
      auth_version: '1.0',
      auth_signature: GEM.vectors[0].signature,
    };
    expect(stringToSign({ method: GEM.method, path: GEM.path, params })).toBe(GEM.vectors[0].stringToSign);
    expect(verifyRequest({ ...GEM, params, app: GEM.app, now: GEM.timestamp * 1000 })).toEqual({ ok: true });
  });

  it.each([
    [-599, true],
    [599, true],
    [-600, false],
    [600, false],
  ])('gem: now = timestamp %+d s verifies: %s', (offset, passes) => {
    const params = signRequest({ ...GEM, params: GEM.vectors[1].params, key: 'key', secret: 'secret' });
    const result = verifyRequest({ ...GEM, params, app: GEM.app, now: (GEM.timestamp + offset) * 1000 });
    expect(result.ok).toBe(passes);
    if (!result.ok) expect(result.message).toMatch(/^Timestamp expired: /);
  });

  it('gem: a missing auth_version is "Version required", 1.1 is "Version not supported"', () => {
    const base = { auth_key: 'key', auth_timestamp: '1234', auth_signature: GEM.vectors[1].signature };
    const input = { ...GEM, app: GEM.app, now: GEM.timestamp * 1000 };
    expect(verifyRequest({ ...input, params: base })).toEqual({
      ok: false,
      status: 400,
      reason: 'malformed-request',
      message: 'Version required',
    });
    expect(verifyRequest({ ...input, params: { ...base, auth_version: '1.1' } })).toEqual({
      ok: false,
      status: 400,
      reason: 'unsupported-version',
      message: 'Version not supported',
    });
  });
});

describe('verifyRequest: the timestamp window', () => {
  it.each([599, -599])('accepts a clock %+d s away from the timestamp', (offset) => {
    expect(verifyRequest(docsRequest({ now: docsNow + offset * 1000 }))).toEqual({ ok: true });
  });

  it('rejects 600 s in the past with Pusher message, times in UTC', () => {
    expect(verifyRequest(docsRequest({ now: docsNow + 600_000 }))).toEqual({
      ok: false,
      status: 401,
      reason: 'timestamp-expired',
      message:
        'Timestamp expired: Given timestamp (2012-11-16T17:49:39Z) not within 600s of server time (2012-11-16T17:59:39Z)',
    });
  });

  it('rejects 600 s in the future', () => {
    const result = verifyRequest(docsRequest({ now: docsNow - 600_000 }));
    expect(result).toMatchObject({ ok: false, status: 401 });
    expect(result.ok || result.message).toContain('server time (2012-11-16T17:39:39Z)');
  });

  it('compares whole seconds: 599.999 s passes, as the clock is truncated like the gem', () => {
    expect(verifyRequest(docsRequest({ now: docsNow + 599_999 }))).toEqual({ ok: true });
  });

  it('defaults to the system clock', () => {
    const params = signRequest({
      method: 'GET',
      path: '/apps/3/channels',
      params: {},
      key: 'k',
      secret: 's',
    });
    const input = { method: 'GET', path: '/apps/3/channels', params, app: { key: 'k', secret: 's' } };
    expect(verifyRequest(input)).toEqual({ ok: true });
    expect(verifyRequest({ ...input, params: { ...params, auth_timestamp: '1353088179' } }).ok).toBe(false);
  });

  it('prints a timestamp beyond the calendar as a number instead of throwing', () => {
    const result = verifyRequest(
      docsRequest({ params: { ...docsParams, auth_timestamp: '999999999999999' } }),
    );
    expect(result).toMatchObject({ ok: false, status: 401 });
    expect(result.ok || result.message).toContain('Given timestamp (999999999999999)');
  });
});

describe('verifyRequest: rejections', () => {
  const withParams = (params: RequestParams) => verifyRequest(docsRequest({ params }));
  const without = (name: string) =>
    Object.fromEntries(Object.entries(docsParams).filter(([key]) => key !== name));

  it.each([
    ['auth_key', 'Missing parameter: auth_key'],
    ['auth_version', 'Version required'],
    ['auth_timestamp', 'Timestamp required'],
    ['auth_signature', 'Missing parameter: auth_signature'],
  ])('answers 400 when %s is missing', (name, message) => {
    expect(withParams(without(name))).toEqual({
      ok: false,
      status: 400,
      reason: 'malformed-request',
      message,
    });
  });

  it('answers 400 "Unknown auth_key" for a key that is not the app\'s', () => {
    expect(withParams({ ...docsParams, auth_key: 'another-key' })).toEqual({
      ok: false,
      status: 400,
      reason: 'unknown-key',
      message: 'Unknown auth_key',
    });
  });

  it.each([
    ['a plain key repeated', { ...docsParams, info: ['a', 'b'] }, 'info'],
    [
      'an auth parameter repeated',
      { ...docsParams, auth_timestamp: ['1353088179', '1353088179'] },
      'auth_timestamp',
    ],
    ['two keys equal once lowercased', { ...docsParams, Auth_Key: DOCS_APP.key }, 'auth_key'],
    ['auth_signature twice', { ...docsParams, AUTH_SIGNATURE: DOCS_TRIGGER.signature }, 'auth_signature'],
    ['auth_signature as two values', { ...docsParams, auth_signature: ['a', 'b'] }, 'auth_signature'],
  ])('answers 400 for %s', (_, params, name) => {
    expect(withParams(params)).toEqual({
      ok: false,
      status: 400,
      reason: 'malformed-request',
      message: `Parameter "${name}" is given more than once`,
    });
  });

  it('takes a one-element array as a single value (API Gateway multiValueQueryStringParameters)', () => {
    const multiValue = Object.fromEntries(Object.entries(docsParams).map(([key, value]) => [key, [value]]));
    expect(withParams(multiValue)).toEqual({ ok: true });
  });

  it.each(['', '1234567890123456', '13530881.79', '-1353088179', '1353088179s', ' 1353088179', '0x50A6'])(
    'answers 400 for the non-numeric timestamp %j',
    (timestamp) => {
      expect(withParams({ ...docsParams, auth_timestamp: timestamp })).toEqual({
        ok: false,
        status: 400,
        reason: 'malformed-request',
        message: `Invalid auth_timestamp: expected a Unix time in seconds, but you sent ${JSON.stringify(timestamp)}`,
      });
    },
  );

  it.each([
    ['short', DOCS_TRIGGER.signature.slice(0, 63)],
    ['long', `${DOCS_TRIGGER.signature}0`],
    ['upper-case', DOCS_TRIGGER.signature.toUpperCase()],
    ['non-hex', `${DOCS_TRIGGER.signature.slice(0, 63)}g`],
    ['non-ASCII that latin1 would fold onto the right byte', `${DOCS_TRIGGER.signature.slice(0, 63)}\u0163`],
    ['one digit off', `${DOCS_TRIGGER.signature.slice(0, 63)}d`],
    ['empty', ''],
  ])('answers 401 Invalid signature for a %s signature', (_, signature) => {
    expect(withParams({ ...docsParams, auth_signature: signature })).toEqual({
      ok: false,
      status: 401,
      reason: 'invalid-signature',
      message: `Invalid signature: you should have sent HmacSHA256Hex("${DOCS_TRIGGER.stringToSign.replaceAll('\n', '\\n')}", your_secret_key), but you sent "${signature}"`,
    });
  });

  it('prints the string to sign with newlines escaped as \\n, and never the secret', () => {
    const result = verifyRequest(docsRequest({ app: { key: DOCS_APP.key, secret: 'another-secret-value' } }));
    expect(result.ok).toBe(false);
    const message = result.ok ? '' : result.message;
    expect(message).toBe(
      'Invalid signature: you should have sent HmacSHA256Hex("POST\\n/apps/3/events\\nauth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0&body_md5=ec365a775a4cd0599faeb73354201b6f", your_secret_key), but you sent "da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c"',
    );
    expect(message).not.toContain('\n');
    expect(message).not.toContain('another-secret-value');
    expect(message).not.toContain(DOCS_APP.secret);
  });

  it('rejects a signature made for another method or path', () => {
    expect(verifyRequest(docsRequest({ method: 'PUT' }))).toMatchObject({ ok: false, status: 401 });
    expect(verifyRequest(docsRequest({ path: '/apps/4/events' }))).toMatchObject({ ok: false, status: 401 });
  });

  it('uppercases the method before signing', () => {
    expect(verifyRequest(docsRequest({ method: 'post' }))).toEqual({ ok: true });
  });
});

describe('verifyRequest: the body', () => {
  const md5 = (bytes: string | Buffer) => createHash('md5').update(bytes).digest('hex');
  const get = { method: 'GET', path: '/apps/3/channels', app: docsApp, now: docsNow };
  const getToSign = (extra: string) =>
    `GET\n/apps/3/channels\nauth_key=${DOCS_APP.key}&auth_timestamp=1353088179&auth_version=1.0${extra}`;
  const getParams = { auth_key: DOCS_APP.key, auth_timestamp: '1353088179', auth_version: '1.0' };

  it('answers 400 when a non-empty body comes without body_md5', () => {
    const params = handSigned(getToSign(''), getParams);
    expect(verifyRequest({ ...get, params, body: '{}' })).toEqual({
      ok: false,
      status: 400,
      reason: 'body-md5-missing',
      message: 'Missing parameter: body_md5 (required with a request body)',
    });
  });

  it('answers 401 when body_md5 does not match the body, as soketi does', () => {
    expect(verifyRequest(docsRequest({ body: `${DOCS_TRIGGER.body} ` }))).toEqual({
      ok: false,
      status: 401,
      reason: 'body-md5-mismatch',
      message: `Invalid body_md5: you should have sent the MD5 hex of the request body, "${md5(`${DOCS_TRIGGER.body} `)}", but you sent "${DOCS_TRIGGER.bodyMd5}"`,
    });
  });

  it("accepts an empty body with the empty string's MD5 (python's GET)", () => {
    const params = handSigned(getToSign(`&body_md5=${EMPTY_BODY_MD5}`), {
      ...getParams,
      body_md5: EMPTY_BODY_MD5,
    });
    expect(verifyRequest({ ...get, params })).toEqual({ ok: true });
    expect(verifyRequest({ ...get, params, body: '' })).toEqual({ ok: true });
    expect(verifyRequest({ ...get, params, body: null })).toEqual({ ok: true });
  });

  it('rejects an empty body with any other body_md5', () => {
    const other = md5('x');
    const params = handSigned(getToSign(`&body_md5=${other}`), { ...getParams, body_md5: other });
    expect(verifyRequest({ ...get, params })).toMatchObject({ ok: false, status: 401 });
  });

  it('hashes the decoded bytes of a base64 body', () => {
    const base64 = Buffer.from(DOCS_TRIGGER.body).toString('base64');
    expect(verifyRequest(docsRequest({ body: base64, isBase64Encoded: true }))).toEqual({ ok: true });
    expect(verifyRequest(docsRequest({ body: base64 }))).toMatchObject({ ok: false, status: 401 });
  });

  it('hashes non-UTF-8 bytes as they are', () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80]);
    const params = signRequest({
      method: 'POST',
      path: '/p',
      params: {},
      body: bytes,
      key: 'k',
      secret: 's',
    });
    expect(params.body_md5).toBe(md5(bytes));
    const input = { method: 'POST', path: '/p', params, app: { key: 'k', secret: 's' } };
    expect(verifyRequest({ ...input, body: bytes })).toEqual({ ok: true });
    expect(verifyRequest({ ...input, body: bytes.toString('base64'), isBase64Encoded: true })).toEqual({
      ok: true,
    });
  });

  it('with skipBodyCheck verifies the signature over body_md5 but not the body; verifyRequestBody does', () => {
    const tampered = docsRequest({ body: '{"name":"evil"}', skipBodyCheck: true });
    // The success names the body_md5 the signature covers, for the integration to check the body against.
    expect(verifyRequest(tampered)).toEqual({ ok: true, bodyMd5: docsParams.body_md5 });
    expect(verifyRequestBody(tampered)).toMatchObject({ ok: false, status: 401 });
    expect(verifyRequestBody(docsRequest())).toEqual({ ok: true });
    expect(
      verifyRequest({ ...tampered, params: { ...docsParams, body_md5: md5('{"name":"evil"}') } }),
    ).toMatchObject({
      ok: false,
      status: 401,
    });
  });

  it('verifyRequestBody rejects a repeated body_md5', () => {
    expect(verifyRequestBody({ params: { body_md5: ['a', 'b'] }, body: 'x' })).toEqual({
      ok: false,
      status: 400,
      reason: 'malformed-request',
      message: 'Parameter "body_md5" is given more than once',
    });
  });
});

describe('verifyRawRequest', () => {
  const raw = (rawQueryString: string, path: string = DOCS_TRIGGER.path) =>
    verifyRawRequest({
      method: 'POST',
      path,
      rawQueryString,
      body: DOCS_TRIGGER.body,
      app: docsApp,
      now: docsNow,
    });
  const docsQuery = new URLSearchParams(docsParams).toString();

  it('verifies the docs trigger from its query string, in any order', () => {
    expect(raw(docsQuery)).toEqual({ ok: true });
    expect(raw(docsQuery.split('&').reverse().join('&'))).toEqual({ ok: true });
  });

  it('answers 400 for a repeated key, which API Gateway would have comma-joined', () => {
    expect(raw(`${docsQuery}&auth_version=1.0`)).toEqual({
      ok: false,
      status: 400,
      reason: 'malformed-request',
      message: 'Parameter "auth_version" is given more than once',
    });
    expect(raw(`${docsQuery}&auth_signature=${DOCS_TRIGGER.signature}`)).toMatchObject({
      ok: false,
      status: 400,
    });
  });

  it.each(['%', '%zz', '%C3', '%E0%A4%A'])(
    'answers 400 for the malformed escape %j instead of throwing',
    (malformed) => {
      expect(raw(`${docsQuery}&info=${malformed}`)).toEqual({
        ok: false,
        status: 400,
        reason: 'malformed-request',
        message: `Invalid query string: malformed percent-encoding in ${JSON.stringify(malformed)}`,
      });
    },
  );

  it('decodes a percent-escaped path and answers 400 for a malformed one', () => {
    expect(raw(docsQuery, '/apps/%33/events')).toEqual({ ok: true });
    expect(raw(docsQuery, '/apps/%3/events')).toEqual({
      ok: false,
      status: 400,
      reason: 'malformed-request',
      message: 'Invalid path: malformed percent-encoding in "/apps/%3/events"',
    });
  });
});

describe('stringToSign', () => {
  const sign = (params: RequestParams) => stringToSign({ method: 'get', path: '/p', params });

  it('writes arrays as one pair per element in order, and a key without value as key=', () => {
    expect(sign({ 'channels[]': ['b', 'a'], empty: '', auth_signature: 'left out' })).toBe(
      'GET\n/p\nchannels[]=b&channels[]=a&empty=',
    );
  });

  it('sorts keys by UTF-8 byte order, not UTF-16 code units, and by key before value', () => {
    expect(sign({ '\u{1F600}': '4', '\uFF5E': '3', é: '2', z: '1' })).toBe('GET\n/p\nz=1&é=2&～=3&😀=4');
    expect(sign({ a: '1', 'a-b': '2' })).toBe('GET\n/p\na=1&a-b=2');
  });

  it('sorts a long parameter list too', () => {
    const names = Array.from({ length: 40 }, (_, i) => `p${String(39 - i).padStart(2, '0')}`);
    const expected = [...names].sort().map((name) => `${name}=v`);
    expect(sign(Object.fromEntries(names.map((name) => [name, 'v'])))).toBe(`GET\n/p\n${expected.join('&')}`);
  });

  it('ignores undefined values, as API Gateway maps may hold them', () => {
    expect(sign({ a: '1', b: undefined })).toBe('GET\n/p\na=1');
  });
});

describe('signRequest', () => {
  const base = { method: 'GET', path: '/apps/1/channels', key: 'k', secret: 's', timestamp: 1700000000 };

  it('returns the params plus the auth parameters, body_md5 only with a body', () => {
    const params = signRequest({ ...base, params: { filter_by_prefix: 'presence-' } });
    expect(Object.keys(params).sort()).toEqual(
      ['auth_key', 'auth_signature', 'auth_timestamp', 'auth_version', 'filter_by_prefix'].sort(),
    );
    expect(params.auth_timestamp).toBe('1700000000');
    expect(signRequest({ ...base, params: {}, body: '' }).body_md5).toBeUndefined();
  });

  it.each(['auth_key', 'AUTH_TIMESTAMP', 'auth_version', 'auth_signature', 'body_md5'])(
    'refuses the reserved parameter %s',
    (name) => {
      expect(() => signRequest({ ...base, params: { [name]: 'x' } })).toThrow(InvalidRequestToSignError);
    },
  );

  it('refuses a plain key with several values or two keys equal once lowercased', () => {
    expect(() => signRequest({ ...base, params: { info: ['a', 'b'] } })).toThrow(
      /"info" is given more than once/,
    );
    expect(() => signRequest({ ...base, params: { Info: 'a', info: 'b' } })).toThrow(
      InvalidRequestToSignError,
    );
  });

  it('signs array parameters named with []', () => {
    const params = signRequest({ ...base, params: { 'channels[]': ['a', 'b'] } });
    expect(params['channels[]']).toEqual(['a', 'b']);
    expect(verifyRequest({ ...base, params, app: base, now: base.timestamp * 1000 })).toEqual({ ok: true });
  });
});
