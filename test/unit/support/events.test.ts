import type { APIGatewayEventRequestContextV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  commaJoinedQueryParameters,
  eventFixture,
  httpAuthorizerEvent,
  httpProxyEvent,
  pusherJsConnectQuery,
  wsConnectAuthorizerEvent,
  wsProxyEvent,
} from '../../support/events.js';

const trigger = {
  method: 'POST',
  rawPath: '/apps/1/events',
  rawQueryString:
    'auth_key=app-key&auth_timestamp=1700000000&auth_version=1.0&body_md5=abc&auth_signature=sig',
};

/** The documented requestContext values a builder has no reason to touch. */
function untouchedContext(documented: { requestContext: APIGatewayEventRequestContextV2 }) {
  const { accountId, apiId, authentication, domainName, domainPrefix, requestId, time, timeEpoch } =
    documented.requestContext;
  return { accountId, apiId, authentication, domainName, domainPrefix, requestId, time, timeEpoch };
}

describe('httpAuthorizerEvent', () => {
  it('keeps every documented field and the documented values it does not override', () => {
    const documented = eventFixture('http-authorizer-request-v2');
    const event = httpAuthorizerEvent({ ...trigger, headers: { Cookie: 'a=1; b=2' } });

    expect(Object.keys(event).sort()).toEqual(Object.keys(documented).sort());
    expect(Object.keys(event.requestContext).sort()).toEqual(Object.keys(documented.requestContext).sort());
    expect(event).toMatchObject({
      version: '2.0',
      type: 'REQUEST',
      stageVariables: documented.stageVariables,
      requestContext: {
        ...untouchedContext(documented),
        http: { protocol: 'HTTP/1.1', sourceIp: documented.requestContext.http.sourceIp },
      },
    });
    expect(event.cookies).toEqual(['a=1', 'b=2']);
    expect(event.headers).not.toHaveProperty('cookie');
  });

  it('describes the request on a Pusher route template, without a body', () => {
    const event = httpAuthorizerEvent(trigger);

    expect(event).toMatchObject({
      routeKey: 'POST /apps/{appId}/events',
      routeArn: 'arn:aws:execute-api:us-east-1:123456789012:abcdef123/$default/POST/apps/1/events',
      rawPath: '/apps/1/events',
      rawQueryString: trigger.rawQueryString,
      pathParameters: { appId: '1' },
      identitySource: ['app-key', 'sig'],
      requestContext: {
        routeKey: 'POST /apps/{appId}/events',
        stage: '$default',
        http: { method: 'POST', path: '/apps/1/events' },
      },
    });
    expect(event).not.toHaveProperty('body');
    expect(event).not.toHaveProperty('cookies');
  });

  it('puts a named stage in front of rawPath and http.path, as HTTP APIs do', () => {
    const event = httpAuthorizerEvent({ ...trigger, stage: 'prod' });

    expect(event.rawPath).toBe('/prod/apps/1/events');
    expect(event.requestContext.http.path).toBe('/prod/apps/1/events');
    expect(event.requestContext.stage).toBe('prod');
    expect(event.routeArn).toMatch(/\/prod\/POST\/apps\/1\/events$/);
  });

  it('decodes query values and joins repeated names with commas, keeping rawQueryString as sent', () => {
    const rawQueryString =
      'info=user_count&filter_by_prefix=presence-a%20b/%C3%A9&info=subscription_count&flag';
    const event = httpAuthorizerEvent({ method: 'GET', rawPath: '/apps/1/channels', rawQueryString });

    expect(event.rawQueryString).toBe(rawQueryString);
    expect(event.queryStringParameters).toEqual({
      info: 'user_count,subscription_count',
      filter_by_prefix: 'presence-a b/é',
      flag: '',
    });
    expect(commaJoinedQueryParameters('a=1&a=2&a=3')).toEqual({ a: '1,2,3' });
  });

  it('fills the path parameters of nested routes and falls back to a catch-all under the app', () => {
    const users = httpAuthorizerEvent({
      method: 'GET',
      rawPath: '/apps/7/channels/presence-room/users',
      rawQueryString: '',
    });
    const other = httpAuthorizerEvent({
      method: 'DELETE',
      rawPath: '/apps/7/whatever/else',
      rawQueryString: '',
    });

    expect(users.routeKey).toBe('GET /apps/{appId}/channels/{channelName}/users');
    expect(users.pathParameters).toEqual({ appId: '7', channelName: 'presence-room' });
    expect(users).not.toHaveProperty('queryStringParameters');
    expect(other.routeKey).toBe('ANY /apps/{appId}/{proxy+}');
    expect(other.pathParameters).toEqual({ appId: '7', proxy: 'whatever/else' });
  });

  it('lowercases header names and adds the headers API Gateway adds', () => {
    const event = httpAuthorizerEvent({
      ...trigger,
      headers: { 'Content-Type': 'application/json', Host: 'x' },
    });

    expect(event.headers).toMatchObject({
      'content-type': 'application/json',
      host: event.requestContext.domainName,
      'x-forwarded-proto': 'https',
      'x-forwarded-port': '443',
    });
  });
});

describe('httpProxyEvent', () => {
  const body = '{"name":"é","data":"{}","channels":["a"]}';

  it('keeps the documented fields and carries the body as a string', () => {
    const documented = eventFixture('http-proxy-v2');
    const event = httpProxyEvent({ ...trigger, body, authorizerContext: { appId: '1', bodyMd5: 'abc' } });

    expect(Object.keys(event.requestContext).sort()).toEqual(Object.keys(documented.requestContext).sort());
    expect(event).toMatchObject({
      version: '2.0',
      stageVariables: documented.stageVariables,
      requestContext: untouchedContext(documented),
      body,
      isBase64Encoded: false,
    });
    expect(event.requestContext.authorizer).toEqual({ lambda: { appId: '1', bodyMd5: 'abc' } });
  });

  it('base64-encodes the body when asked', () => {
    const event = httpProxyEvent({ ...trigger, body, isBase64Encoded: true });

    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body!, 'base64').toString('utf8')).toBe(body);
  });

  it('leaves out the body and the authorizer when there are none', () => {
    const event = httpProxyEvent({ method: 'GET', rawPath: '/apps/1/channels', rawQueryString: 'a=b' });

    expect(event).not.toHaveProperty('body');
    expect(event.requestContext).not.toHaveProperty('authorizer');
    expect(event.routeKey).toBe('GET /apps/{appId}/channels');
  });

  it('starts each event from a fresh copy of the fixture', () => {
    const first = httpProxyEvent({ ...trigger, body });
    first.requestContext.http.sourceIp = 'changed';

    expect(httpProxyEvent({ ...trigger, body }).requestContext.http.sourceIp).toBe(
      eventFixture('http-proxy-v2').requestContext.http.sourceIp,
    );
  });
});

describe('wsConnectAuthorizerEvent', () => {
  it('keeps the documented $connect shape and carries the rewritten pusher-js query', () => {
    const documented = eventFixture('ws-connect-authorizer-request');
    const query = pusherJsConnectQuery('app-key');
    const event = wsConnectAuthorizerEvent({ query, stage: 'prod' });

    expect(Object.keys(event).sort()).toEqual(Object.keys(documented).sort());
    expect(event).toMatchObject({
      type: 'REQUEST',
      methodArn: 'arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod/$connect',
      headers: documented.headers,
      multiValueHeaders: documented.multiValueHeaders,
      stageVariables: {},
      queryStringParameters: query,
      multiValueQueryStringParameters: Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])),
      requestContext: {
        ...documented.requestContext,
        routeKey: '$connect',
        eventType: 'CONNECT',
        stage: 'prod',
        connectionId: expect.stringMatching(/^[A-Za-z0-9]{15}=$/),
      },
    });
    expect(event).not.toHaveProperty('body');
    expect(event).not.toHaveProperty('pathParameters');
  });

  it('replaces headers by name regardless of case and leaves the query maps out when empty', () => {
    const event = wsConnectAuthorizerEvent({
      query: {},
      headers: { host: 'ws.example.com' },
      connectionId: 'c1',
    });

    expect(event.headers).toMatchObject({ host: 'ws.example.com', Upgrade: 'websocket' });
    expect(event.headers).not.toHaveProperty('Host');
    expect(event.multiValueHeaders?.host).toEqual(['ws.example.com']);
    expect(event).not.toHaveProperty('queryStringParameters');
    expect(event).not.toHaveProperty('multiValueQueryStringParameters');
    expect(event.requestContext.connectionId).toBe('c1');
  });
});

describe('pusherJsConnectQuery', () => {
  it('applies overrides and removes parameters overridden with undefined', () => {
    expect(pusherJsConnectQuery('k', { protocol: '6', flash: undefined })).toEqual({
      appKey: 'k',
      protocol: '6',
      client: 'js',
      version: '8.6.0',
    });
  });
});

describe('wsProxyEvent', () => {
  const authorizer = { principalId: 'app-1', appId: '1', maxConnections: 100, enabled: true };

  it.each([
    ['$connect', 'CONNECT'],
    ['$default', 'MESSAGE'],
    ['$disconnect', 'DISCONNECT'],
  ] as const)('builds %s as a %s event with the authorizer context stringified', (routeKey, eventType) => {
    const event = wsProxyEvent({ routeKey, connectionId: 'conn-1', authorizer });

    expect(event.isBase64Encoded).toBe(false);
    expect(event.requestContext).toMatchObject({
      routeKey,
      eventType,
      connectionId: 'conn-1',
      messageDirection: 'IN',
    });
    expect(event.requestContext.authorizer).toEqual({
      principalId: 'app-1',
      appId: '1',
      maxConnections: '100',
      enabled: 'true',
    });
  });

  it('carries a message body on $default only, and the documented $disconnect fields', () => {
    const message = wsProxyEvent({
      routeKey: '$default',
      connectionId: 'c',
      body: '{"event":"pusher:ping"}',
    });
    const disconnect = wsProxyEvent({ routeKey: '$disconnect', connectionId: 'c' });

    expect(message.body).toBe('{"event":"pusher:ping"}');
    expect(message.requestContext.messageId).toBeTruthy();
    expect(disconnect).not.toHaveProperty('body');
    expect(disconnect.requestContext).toMatchObject({ disconnectStatusCode: 1001, disconnectReason: '' });
    expect(() => wsProxyEvent({ routeKey: '$connect', connectionId: 'c', body: 'x' })).toThrow(/no body/);
    expect(() => wsProxyEvent({ routeKey: '$default', connectionId: 'c', query: {} })).toThrow(
      /only \$connect/,
    );
  });

  it('gives $connect the query and headers of the upgrade request', () => {
    const query = pusherJsConnectQuery('app-key');
    const event = wsProxyEvent({ routeKey: '$connect', connectionId: 'c', query, stage: 'prod' });

    expect(event.queryStringParameters).toEqual(query);
    expect(event.requestContext.stage).toBe('prod');
    expect(event.headers?.Upgrade).toBe('websocket');
  });
});
