import Pusher from 'pusher';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppResolver } from '../../../src/apps/resolver.js';
import { loadConfig } from '../../../src/config/config.js';
import { connectionsApi } from '../../../src/gateway/management-api.js';
import { channelQueryHandler } from '../../../src/http-api/channel-query-route.js';
import { httpApiHandler } from '../../../src/http-api/http-api.js';
import type { PusherRequestContext } from '../../../src/http-api/pusher-request-middleware.js';
import type { HttpApiHandler } from '../../../src/http-api/route.js';
import { type AppsTestTable, appsTestTable } from '../../fixtures/apps/apps-table.js';
import { appItem } from '../../fixtures/apps/items.js';
import { createStateTable, type TestTable, testClient } from '../../support/dynamodb.js';
import { httpProxyEvent } from '../../support/events.js';
import { lambdaContext } from '../../support/lambda-context.js';
import { recordingLogger } from '../../support/recording-logger.js';

let apps: AppsTestTable;
let state: TestTable;
let readRoute: HttpApiHandler;
let wholeApi: HttpApiHandler;

beforeAll(async () => {
  apps = await appsTestTable('http-route');
  await apps.put(appItem('reader'));
  const stateClient = testClient();
  state = await createStateTable(stateClient, 'http-route-state');
  const routeOptions = {
    resolver: createAppResolver({ client: apps.client, tableName: apps.name, config: loadConfig({}) }),
    rateLimiter: null,
  };
  const stateTable = { client: stateClient, tableName: state.name };
  const context = { state: stateTable, logger: recordingLogger(), now: Date.now };
  readRoute = channelQueryHandler({ ...routeOptions, context });
  // Nothing here has a recipient, so the @connections API (an unused port) is never called.
  const connections = connectionsApi('http://127.0.0.1:9', 'us-east-1');
  wholeApi = httpApiHandler({ ...routeOptions, context: { ...context, connections } });
});

afterAll(async () => {
  await Promise.all([apps?.drop(), state?.drop()]);
});

/** A request signed by the official SDK for app `reader`, as API Gateway delivers it. */
function signed(method: 'GET' | 'POST', endpoint: string, body?: object) {
  const path = `/apps/reader/${endpoint}`;
  const text = body === undefined ? undefined : JSON.stringify(body);
  const pusher = new Pusher({
    appId: 'reader',
    key: 'reader-key',
    secret: 'reader-secret',
    host: '127.0.0.1',
  });
  const rawQueryString = pusher.createSignedQueryString({ method, path, ...(text && { body: text }) });
  return httpProxyEvent({ method, rawPath: path, rawQueryString, ...(text && { body: text }) });
}

describe('a route handler built by httpRouteHandler', () => {
  it('answers the route kinds it serves', async () => {
    const response = await readRoute(signed('GET', 'channels'), lambdaContext() as PusherRequestContext);

    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body!)).toEqual({ channels: {} });
  });

  it.each([
    ['POST', 'events', { name: 'e', channel: 'c', data: '{}' }],
    ['POST', 'batch_events', { batch: [{ name: 'e', channel: 'c', data: '{}' }] }],
    ['POST', 'users/someone/terminate_connections', {}],
  ] as const)(
    'answers 404 to a verified %s /%s, which another route serves',
    async (method, endpoint, body) => {
      const response = await readRoute(
        signed(method, endpoint, body),
        lambdaContext() as PusherRequestContext,
      );

      expect(response).toMatchObject({ statusCode: 404 });
      expect(response.body).toContain(`Unknown endpoint: ${method} /apps/reader/${endpoint}`);
    },
  );
});

describe('httpApiHandler', () => {
  const trigger = { channels: { nobody: { subscription_count: 0 } } };
  const batch = { batch: [{ subscription_count: 0 }] };
  it.each([
    ['GET', 'channels', undefined, { channels: {} }],
    ['POST', 'events', { name: 'e', channel: 'nobody', data: '{}', info: 'subscription_count' }, trigger],
    [
      'POST',
      'batch_events',
      { batch: [{ name: 'e', channel: 'nobody', data: '{}', info: 'subscription_count' }] },
      batch,
    ],
    ['POST', 'users/someone/terminate_connections', {}, {}],
  ] as const)('answers %s /%s in the one handler', async (method, endpoint, body, answer) => {
    const response = await wholeApi(signed(method, endpoint, body), lambdaContext() as PusherRequestContext);

    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body!)).toEqual(answer);
  });
});
