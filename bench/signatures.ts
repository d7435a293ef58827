// verifyRequest on a typical trigger, next to a bare createHmac of the same string to sign and to the pusher
// SDK's own signing of the same request (its public createSignedQueryString, which is lib/requests.js:
// body MD5, sort, HMAC). verifyRequest does the MD5, sort and HMAC too, plus the checks and a constant-time
// compare; its HMAC is our hmacSha256Hex (RFC 2104 over one-shot crypto.hash), shown on its own row.
import { createHmac } from 'node:crypto';
import Pusher from 'pusher';
import { hmacSha256Hex } from '../src/protocol/hmac.js';
import {
  parseQueryString,
  type QueryParams,
  stringToSign,
  verifyRawRequest,
  verifyRequest,
} from '../src/protocol/index.js';
import { type Benchmark, type BenchReport, measureInterleaved, ratioOf } from './support.js';

const APP = { id: '1234', key: 'app-key-0123456789ab', secret: 'app-secret-0123456789' };
const PATH = `/apps/${APP.id}/events`;
const BODY = JSON.stringify({
  name: 'order-updated',
  channels: ['private-orders-42'],
  data: JSON.stringify({ id: 42, status: 'shipped', items: 3 }),
});

const VERIFY = 'verifyRequest';
const VERIFY_RAW = 'verifyRawRequest';
const BARE_HMAC = 'bare createHmac';
const SDK_SIGN = 'pusher SDK signing';
const OUR_HMAC = 'hmacSha256Hex (ours)';

export const signatureBenchmark: Benchmark = {
  name: 'signatures',
  async run(): Promise<BenchReport> {
    const pusher = new Pusher({ appId: APP.id, key: APP.key, secret: APP.secret, host: '127.0.0.1' });
    const rawQueryString = pusher.createSignedQueryString({ method: 'POST', path: PATH, body: BODY });
    // As API Gateway hands them to a Lambda: decoded, in an event parsed from JSON.
    const params = JSON.parse(JSON.stringify(parseQueryString(rawQueryString))) as QueryParams;
    const now = Date.now();
    const request = { method: 'POST', path: PATH, params, body: BODY, app: APP, now };
    const rawRequest = { method: 'POST', path: PATH, rawQueryString, body: BODY, app: APP, now };
    const toSign = stringToSign(request);
    if (!verifyRequest(request).ok || !verifyRawRequest(rawRequest).ok) {
      throw new Error('The benchmark request does not verify');
    }

    const medians = await measureInterleaved([
      { name: VERIFY, run: () => verifyRequest(request) },
      { name: VERIFY_RAW, run: () => verifyRawRequest(rawRequest) },
      { name: BARE_HMAC, run: () => createHmac('sha256', APP.secret).update(toSign).digest('hex') },
      { name: OUR_HMAC, run: () => hmacSha256Hex(APP.secret, toSign) },
      {
        name: SDK_SIGN,
        run: () => pusher.createSignedQueryString({ method: 'POST', path: PATH, body: BODY }),
      },
    ]);
    return {
      title: `HTTP API signatures: a trigger with a ${Buffer.byteLength(BODY)}-byte body (median per call)`,
      medians,
      targets: [
        { label: `${VERIFY} / ${BARE_HMAC}`, ratio: ratioOf(medians, VERIFY, BARE_HMAC), max: 2 },
        { label: `${VERIFY} / ${SDK_SIGN}`, ratio: ratioOf(medians, VERIFY, SDK_SIGN), max: 1 },
      ],
    };
  },
};
