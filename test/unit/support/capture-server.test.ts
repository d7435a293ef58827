import { createHash, createHmac } from 'node:crypto';
import Pusher from 'pusher';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaptureServer } from '../../support/capture-server.js';
import { httpEventsFromCapturedRequest } from '../../support/events.js';

const app = { appId: '1', key: 'app-key', secret: 'app-secret' };

function pusherAt(server: CaptureServer): Pusher {
  return new Pusher({ ...app, host: server.host, port: String(server.port), useTLS: false });
}

/** Pusher's string to sign from the event's path and decoded query (pusher-protocol.md §1.2). */
function expectedSignature(method: string, path: string, query: Record<string, string | undefined>): string {
  const params = Object.entries(query)
    .filter(([name]) => name !== 'auth_signature')
    .map(([name, value]) => `${name.toLowerCase()}=${value}`)
    .sort()
    .join('&');
  return createHmac('sha256', app.secret).update(`${method}\n${path}\n${params}`).digest('hex');
}

describe('CaptureServer with the real pusher SDK', () => {
  let server: CaptureServer;
  let pusher: Pusher;

  beforeAll(async () => {
    server = await new CaptureServer().start();
    pusher = pusherAt(server);
  });
  afterAll(() => server.close());

  it('turns a trigger into an authorizer event and a proxy event with the exact body bytes', async () => {
    const response = await pusher.trigger(['room-1', 'room-2'], 'greeting', { text: 'héllo wörld' });
    const captured = await server.next();
    const { authorizerEvent, proxyEvent } = httpEventsFromCapturedRequest(captured, {
      authorizerContext: { appId: app.appId },
    });

    expect(response.status).toBe(200);
    expect(authorizerEvent).toMatchObject({
      routeKey: 'POST /apps/{appId}/events',
      rawPath: '/apps/1/events',
      rawQueryString: captured.url.slice(captured.url.indexOf('?') + 1),
      pathParameters: { appId: '1' },
      requestContext: { http: { method: 'POST', path: '/apps/1/events' } },
    });
    const query = authorizerEvent.queryStringParameters!;
    expect(query).toMatchObject({ auth_key: app.key, auth_version: '1.0' });
    expect(query.auth_timestamp).toMatch(/^\d+$/);
    expect(query.auth_signature).toBe(expectedSignature('POST', authorizerEvent.rawPath, query));
    expect(authorizerEvent).not.toHaveProperty('body');

    expect(proxyEvent.isBase64Encoded).toBe(false);
    expect(Buffer.from(proxyEvent.body!, 'utf8').equals(captured.body)).toBe(true);
    expect(createHash('md5').update(captured.body).digest('hex')).toBe(query.body_md5);
    expect(JSON.parse(proxyEvent.body!)).toEqual({
      name: 'greeting',
      channels: ['room-1', 'room-2'],
      data: JSON.stringify({ text: 'héllo wörld' }),
    });
    expect(proxyEvent.headers).toMatchObject({ 'content-type': 'application/json' });
    expect(proxyEvent.requestContext.authorizer.lambda).toEqual({ appId: '1' });
  });

  it('delivers the captured body base64-encoded, and under a named stage, when asked', async () => {
    await pusher.trigger('room-1', 'greeting', 'ünïcode');
    const captured = await server.next();
    const { authorizerEvent, proxyEvent } = httpEventsFromCapturedRequest(captured, {
      isBase64Encoded: true,
      stage: 'prod',
    });

    expect(proxyEvent.isBase64Encoded).toBe(true);
    expect(Buffer.from(proxyEvent.body!, 'base64').equals(captured.body)).toBe(true);
    expect(authorizerEvent.rawPath).toBe('/prod/apps/1/events');
    expect(proxyEvent.rawPath).toBe('/prod/apps/1/events');
  });

  it('turns a signed GET /channels into events without a body or body_md5', async () => {
    await pusher.get({ path: '/channels', params: { filter_by_prefix: 'presence-', info: 'user_count' } });
    const captured = await server.next();
    const { authorizerEvent, proxyEvent } = httpEventsFromCapturedRequest(captured);
    const query = authorizerEvent.queryStringParameters!;

    expect(captured.method).toBe('GET');
    expect(authorizerEvent.routeKey).toBe('GET /apps/{appId}/channels');
    expect(authorizerEvent.rawQueryString).toContain('filter_by_prefix=presence-');
    expect(query).toMatchObject({ auth_key: app.key, filter_by_prefix: 'presence-', info: 'user_count' });
    expect(query).not.toHaveProperty('body_md5');
    expect(query.auth_signature).toBe(expectedSignature('GET', '/apps/1/channels', query));
    expect(proxyEvent).not.toHaveProperty('body');
    expect(proxyEvent.queryStringParameters).toEqual(query);
  });
});

describe('CaptureServer', () => {
  it('answers with the configured response', async () => {
    const server = await new CaptureServer({ response: { status: 503, body: 'busy' } }).start();
    try {
      const failure = pusherAt(server).trigger('room-1', 'greeting', {});
      await expect(failure).rejects.toMatchObject({ status: 503, body: 'busy' });
      expect((await server.next()).method).toBe('POST');
    } finally {
      await server.close();
    }
  });

  it('rejects next() when no request arrives in time', async () => {
    const server = await new CaptureServer().start();
    try {
      await expect(server.next(20)).rejects.toThrow(/no request within 20 ms/);
    } finally {
      await server.close();
    }
  });
});
