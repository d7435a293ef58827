import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type CloudFrontRequest,
  type CloudFrontResponse,
  EDGE_FUNCTION_FILE,
  isResponse,
  loadViewerRequestFunction,
  type ViewerRequestEvent,
} from '../../../src/local/edge-function.js';

// The deployed file itself, evaluated the way the local stack evaluates it.
const handler = loadViewerRequestFunction();

/** A viewer-request event shaped like the example in the AWS docs ("CloudFront Functions event structure"). */
function event(uri: string, querystring: CloudFrontRequest['querystring'] = {}): ViewerRequestEvent {
  return {
    version: '1.0',
    context: {
      distributionDomainName: 'd111111abcdef8.cloudfront.net',
      distributionId: 'EDFDVBD6EXAMPLE',
      eventType: 'viewer-request',
      requestId: 'EXAMPLEntjQpEXAMPLE_SG5Z-EXAMPLEPmPfEXAMPLEu3EqEXAMPLE==',
    },
    viewer: { ip: '198.51.100.11' },
    request: {
      method: 'GET',
      uri,
      querystring,
      headers: {
        host: { value: 'd111111abcdef8.cloudfront.net' },
        upgrade: { value: 'websocket' },
        connection: { value: 'Upgrade' },
        'sec-websocket-key': { value: 'dGhlIHNhbXBsZSBub25jZQ==' },
        'sec-websocket-version': { value: '13' },
      },
      cookies: { cookie_consent: { value: 'true' } },
    },
  };
}

/** The query pusher-js 8.6.0 sends with every connection. */
const PUSHER_JS_QUERY = {
  protocol: { value: '7' },
  client: { value: 'js' },
  version: { value: '8.6.0' },
  flash: { value: 'false' },
};

function rewritten(input: ViewerRequestEvent): CloudFrontRequest {
  const result = handler(input);
  if (isResponse(result)) throw new Error(`expected a request, got status ${result.statusCode}`);
  return result;
}

function refused(input: ViewerRequestEvent): CloudFrontResponse {
  const result = handler(input);
  if (!isResponse(result)) throw new Error(`expected a response, got a request for ${result.uri}`);
  return result;
}

describe('edge/rewrite-app-path.js', () => {
  it('rewrites the pusher-js path to / and passes the key as appKey, keeping the client query', () => {
    const input = event('/app/app-key', { ...PUSHER_JS_QUERY });
    const request = rewritten(input);

    expect(request.uri).toBe('/');
    expect(request.querystring).toEqual({ ...PUSHER_JS_QUERY, appKey: { value: 'app-key' } });
    expect(request.method).toBe('GET');
    expect(request.headers).toEqual(event('/').request.headers);
    expect(request.cookies).toEqual({ cookie_consent: { value: 'true' } });
  });

  it('keeps duplicated query parameters with their multiValue list', () => {
    const repeated = { value: 'a', multiValue: [{ value: 'a' }, { value: 'b,c' }] };
    const request = rewritten(event('/app/k1', { ...PUSHER_JS_QUERY, tag: repeated }));

    expect(request.querystring.tag).toEqual(repeated);
    expect(request.querystring.appKey).toEqual({ value: 'k1' });
  });

  it('lets the key in the path win over an appKey the client put in the query, single or repeated', () => {
    const single = rewritten(event('/app/real', { appKey: { value: 'forged' } }));
    const repeated = rewritten(
      event('/app/real', { appKey: { value: 'x', multiValue: [{ value: 'x' }, { value: 'y' }] } }),
    );

    expect(single.querystring.appKey).toEqual({ value: 'real' });
    expect(repeated.querystring.appKey).toEqual({ value: 'real' });
  });

  it('passes a percent-encoded key through unchanged, as the query values beside it', () => {
    expect(rewritten(event('/app/key%2Bwith%20codes')).querystring.appKey).toEqual({
      value: 'key%2Bwith%20codes',
    });
  });

  it.each(['/', '/app', '/app/', '/app/key/extra', '/app//key', '/prefix/app/key', '/apps/app-id/events'])(
    'answers 404 at the edge for %s',
    (uri) => {
      expect(refused(event(uri, { ...PUSHER_JS_QUERY }))).toEqual({
        statusCode: 404,
        statusDescription: 'Not Found',
      });
    },
  );

  it('fits the CloudFront Functions runtime: self-contained and under the 10 KB size limit', () => {
    const source = readFileSync(EDGE_FUNCTION_FILE, 'utf8');

    expect(source).not.toMatch(/\brequire\s*\(|^\s*(import|export)\b/m);
    expect(Buffer.byteLength(source)).toBeLessThan(10 * 1024);
    expect(source).toMatch(/^function handler\(event\) \{$/m);
  });

  it('answers a plain GET / itself with 200 OK, the health answer, and an upgrade on / with 404', () => {
    const plain = event('/');
    delete plain.request.headers.upgrade;
    const health = handler(plain) as CloudFrontResponse;
    expect(health.statusCode).toBe(200);
    expect(health.body).toEqual({ encoding: 'text', data: 'OK' });
    expect(health.headers?.['cache-control']?.value).toBe('no-store');
    expect((handler(event('/')) as CloudFrontResponse).statusCode).toBe(404);
    const posted = event('/');
    delete posted.request.headers.upgrade;
    expect(
      (handler({ ...posted, request: { ...posted.request, method: 'POST' } }) as CloudFrontResponse)
        .statusCode,
    ).toBe(404);
  });
});
