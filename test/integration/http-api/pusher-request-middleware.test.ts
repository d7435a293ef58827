import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import Pusher from 'pusher';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AppResolver, createAppResolver } from '../../../src/apps/resolver.js';
import { loadConfig } from '../../../src/config/config.js';
import {
  type PusherRequest,
  type PusherRequestContext,
  pusherRequestMiddleware,
} from '../../../src/http-api/pusher-request-middleware.js';
import { jsonResponse } from '../../../src/http-api/responses.js';
import { createRateLimiter } from '../../../src/limits/rate-limiter.js';
import { CounterMetrics } from '../../../src/observability/metrics.js';
import { signRequest } from '../../../src/protocol/index.js';
import { type AppsTestTable, appsTestTable } from '../../fixtures/apps/apps-table.js';
import { appItem } from '../../fixtures/apps/items.js';
import { type AwsJsonProxy, DYNAMODB_FAULTS, startDynamoDbProxy } from '../../support/aws-json-proxy.js';
import { CaptureServer } from '../../support/capture-server.js';
import {
  type CallCounter,
  countCalls,
  createStateTable,
  dynamodbEndpoint,
  type TestTable,
  testClient,
} from '../../support/dynamodb.js';
import { httpEventsFromCapturedRequest } from '../../support/events.js';
import { startHttpGateway } from '../../support/http-gateway.js';
import { lambdaContext } from '../../support/lambda-context.js';

const n = (value: number) => ({ N: String(value) });

let apps: AppsTestTable;
let state: TestTable;
let stateCalls: CallCounter;
let proxy: AwsJsonProxy;
let gateway: CaptureServer;
let capture: CaptureServer;
let resolver: AppResolver;
let clockMs = Date.UTC(2026, 10, 26, 12, 0, 0);
const seen: PusherRequest[] = [];

const route = middy<
  APIGatewayProxyEventV2,
  Awaited<ReturnType<typeof jsonResponse>>,
  Error,
  PusherRequestContext
>();

beforeAll(async () => {
  apps = await appsTestTable('middleware');
  await apps.put(
    appItem('limited', {
      MaxEventChannelsAtOnce: n(3),
      MaxEventNameLength: n(20),
      MaxChannelNameLength: n(30),
      MaxEventPayloadInKb: n(1),
      MaxEventBatchSize: n(2),
      MaxBackendEventsPerSecond: n(4),
      MaxReadRequestsPerSecond: n(2),
    }),
    appItem('open'),
    appItem('other'),
    appItem('off', { Enabled: { BOOL: false } }),
    appItem('cold'),
  );
  const stateClient = testClient();
  stateCalls = countCalls(stateClient);
  state = await createStateTable(stateClient, 'middleware-state');
  proxy = await startDynamoDbProxy(dynamodbEndpoint());
  resolver = createAppResolver({
    client: testClient({ endpoint: proxy.endpoint }),
    tableName: apps.name,
    config: loadConfig({}),
  });
  const rateLimiter = createRateLimiter({ client: stateClient, tableName: state.name, now: () => clockMs });
  route.use(pusherRequestMiddleware({ resolver, rateLimiter })).handler(async (_event, context) => {
    seen.push(context.pusher);
    const { route } = context.pusher;
    if (route.kind === 'terminate-user' && route.userId === 'crash')
      throw new Error('a bug in the route handler');
    return jsonResponse({});
  });
  gateway = await startHttpGateway((event, context) => route(event, context as PusherRequestContext));
  capture = await new CaptureServer().start();
});

beforeEach(() => {
  seen.length = 0;
  proxy.setFault(undefined);
  clockMs += 1000;
});

afterAll(async () => {
  await gateway.close();
  await capture.close();
  await proxy.close();
  await state.drop();
  await apps.drop();
});

function sdk(appId: string, options: { key?: string; secret?: string; server?: CaptureServer } = {}): Pusher {
  const server = options.server ?? gateway;
  return new Pusher({
    appId,
    key: options.key ?? `${appId}-key`,
    secret: options.secret ?? `${appId}-secret`,
    host: server.host,
    port: String(server.port),
    useTLS: false,
  });
}

/** The SDK's own error for a refused request: it carries the status and the body we answered. */
async function refusal(request: Promise<unknown>): Promise<{ status: number; body: string }> {
  const error = (await request.then(
    () => undefined,
    (reason: unknown) => reason,
  )) as { status?: number; body?: string } | undefined;
  if (!error) throw new Error('the request was not refused');
  return { status: error.status ?? 0, body: error.body ?? '' };
}

describe('pusherRequestMiddleware with the real pusher SDK', () => {
  it('admits a trigger and hands the route the app, the route and the checked events', async () => {
    const response = await sdk('open').trigger(
      ['a', 'b'],
      'greeting',
      { hello: 'world' },
      { socket_id: '1.2' },
    );
    expect(response.status).toBe(200);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      app: { id: 'open' },
      route: { kind: 'trigger' },
      events: [{ name: 'greeting', data: '{"hello":"world"}', channels: ['a', 'b'], socketId: '1.2' }],
    });
  });

  it('admits a batch, a channels query and terminate_connections', async () => {
    const pusher = sdk('open');
    await pusher.triggerBatch([
      { channel: 'a', name: 'one', data: 'x' },
      { channel: 'b', name: 'two', data: 'y' },
    ]);
    await pusher.get({ path: '/channels', params: { filter_by_prefix: 'presence-', info: 'user_count' } });
    await pusher.terminateUserConnections('user-1');
    expect(seen.map((request) => request.route)).toEqual([
      { kind: 'batch' },
      { kind: 'read' },
      { kind: 'terminate-user', userId: 'user-1' },
    ]);
  });

  it.each([
    [
      'a wrong secret',
      () => sdk('open', { secret: 'wrong' }),
      401,
      /^Invalid signature: you should have sent/,
    ],
    [
      'another app’s key',
      () => sdk('open', { key: 'other-key', secret: 'other-secret' }),
      400,
      /^Unknown auth_key$/,
    ],
    ['a disabled app', () => sdk('off'), 403, /^The app off is disabled\.$/],
    ['an unknown app', () => sdk('nobody'), 404, /^The app nobody does not exist\.$/],
  ])('refuses %s with a plain-text Pusher answer', async (_, client, status, body) => {
    const answer = await refusal(client().trigger('a', 'e', 'x'));
    expect(answer.status).toBe(status);
    expect(answer.body).toMatch(body);
    expect(seen).toHaveLength(0);
  });

  it('answers 503 (retryable), not "not found", when DynamoDB fails and nothing is cached', async () => {
    proxy.setFault(DYNAMODB_FAULTS.serviceUnavailable);
    const answer = await refusal(sdk('cold').trigger('a', 'e', 'x'));
    expect(answer.status).toBe(503);
  });

  describe('per-request limits, from the app item', () => {
    it.each([
      [
        'payload over MaxEventPayloadInKb',
        () => sdk('limited').trigger('a', 'e', 'x'.repeat(1025)),
        413,
        /1025 bytes.*1024 bytes \(MaxEventPayloadInKb 1\)/,
      ],
      [
        'channels over MaxEventChannelsAtOnce',
        () => sdk('limited').trigger(['a', 'b', 'c', 'd'], 'e', 'x'),
        400,
        /4 given, MaxEventChannelsAtOnce is 3/,
      ],
      [
        'an event name over MaxEventNameLength',
        () => sdk('limited').trigger('a', 'e'.repeat(21), 'x'),
        400,
        /name: .*21.*20/,
      ],
      [
        'a channel name over MaxChannelNameLength',
        () => sdk('limited').trigger('c'.repeat(31), 'e', 'x'),
        400,
        /channel: .*31.*30/,
      ],
      [
        'a batch over MaxEventBatchSize',
        () => sdk('limited').triggerBatch([1, 2, 3].map((i) => ({ channel: 'a', name: `e${i}`, data: 'x' }))),
        400,
        /Cannot batch-send 3 events: MaxEventBatchSize is 2\./,
      ],
    ])('%s', async (_, request, status, body) => {
      const answer = await refusal(request());
      expect(answer).toMatchObject({ status });
      expect(answer.body).toMatch(body);
    });
  });

  describe('rates shared through the state table', () => {
    it('refuses backend events past MaxBackendEventsPerSecond with 429, one point per channel', async () => {
      const pusher = sdk('limited');
      await pusher.trigger(['a', 'b', 'c'], 'e', 'x');
      const answer = await refusal(pusher.trigger(['a', 'b'], 'e', 'x'));
      expect(answer.status).toBe(429);
      expect(answer.body).toMatch(/MaxBackendEventsPerSecond is 4/);
      await pusher.trigger('a', 'e', 'x');
      clockMs += 1000;
      await pusher.trigger(['a', 'b', 'c'], 'e', 'x');
    });

    it('refuses reads past MaxReadRequestsPerSecond with 429', async () => {
      const pusher = sdk('limited');
      await pusher.get({ path: '/channels' });
      await pusher.get({ path: '/channels/presence-a/users' });
      const answer = await refusal(pusher.get({ path: '/channels' }));
      expect(answer.status).toBe(429);
      expect(answer.body).toMatch(/MaxReadRequestsPerSecond is 2/);
    });

    it('costs an unlimited app no state-table call', async () => {
      const before = stateCalls.total();
      const pusher = sdk('open');
      for (let i = 0; i < 5; i++) await pusher.trigger('a', 'e', 'x');
      await pusher.get({ path: '/channels' });
      expect(stateCalls.total()).toBe(before);
    });
  });
});

describe('pusherRequestMiddleware on events API Gateway builds', () => {
  async function capturedTrigger() {
    const pusher = sdk('open', { server: capture });
    const [, request] = await Promise.all([pusher.trigger('a', 'e', { n: 1 }), capture.next()]);
    return request;
  }

  it('refuses a body altered after signing (body_md5 no longer matches) with 401', async () => {
    const request = await capturedTrigger();
    const { proxyEvent } = httpEventsFromCapturedRequest({
      ...request,
      body: Buffer.from(request.body.toString().replace('1', '2')),
    });
    const response = await route(proxyEvent, lambdaContext() as PusherRequestContext);
    expect(response).toMatchObject({ statusCode: 401, body: expect.stringMatching(/^Invalid body_md5/) });
  });

  it('verifies a base64-encoded body after decoding it', async () => {
    const { proxyEvent } = httpEventsFromCapturedRequest(await capturedTrigger(), { isBase64Encoded: true });
    expect(proxyEvent.isBase64Encoded).toBe(true);
    const response = await route(proxyEvent, lambdaContext() as PusherRequestContext);
    expect(response.statusCode).toBe(200);
  });

  it('refuses a body that is not JSON with 400', async () => {
    const pusher = sdk('open', { server: capture });
    const [, request] = await Promise.all([pusher.trigger('a', 'e', 'x'), capture.next()]);
    const { proxyEvent } = httpEventsFromCapturedRequest(request);
    // Re-sign a non-JSON body the way an SDK would, so only the JSON check can fail.
    const params = signRequest({
      method: 'POST',
      path: '/apps/open/events',
      params: {},
      body: 'not json',
      key: 'open-key',
      secret: 'open-secret',
    });
    const event = {
      ...proxyEvent,
      body: 'not json',
      rawQueryString: new URLSearchParams(params as Record<string, string>).toString(),
    };
    const response = await route(event, lambdaContext() as PusherRequestContext);
    expect(response).toMatchObject({ statusCode: 400, body: 'The body is not valid JSON.' });
  });

  it('answers an error thrown by the route handler with a bare 500', async () => {
    const answer = await refusal(sdk('open').terminateUserConnections('crash'));
    expect(answer).toEqual({ status: 500, body: 'A server error has occurred.' });
  });

  it('refuses a signed request for an endpoint the Pusher API does not have with 404', async () => {
    const answer = await refusal(sdk('open').post({ path: '/unknown', body: '{}' }));
    expect(answer).toEqual({ status: 404, body: 'Unknown endpoint: POST /apps/open/unknown' });
    expect(seen).toHaveLength(0);
  });

  it('routes on the decoded path, as it was signed', async () => {
    await sdk('open').terminateUserConnections('a@b');
    expect(seen.map((request) => request.route)).toEqual([{ kind: 'terminate-user', userId: 'a@b' }]);
  });
});

describe('pusherRequestMiddleware counters', () => {
  it('publishes request, limiter and cache counters as EMF lines, each the growth since the last', async () => {
    const lines: Record<string, unknown>[] = [];
    const metrics = new CounterMetrics('routes', {
      env: {},
      write: (line) => void lines.push(JSON.parse(line)),
    });
    const counted = middy<
      APIGatewayProxyEventV2,
      Awaited<ReturnType<typeof jsonResponse>>,
      Error,
      PusherRequestContext
    >()
      .use(pusherRequestMiddleware({ resolver, rateLimiter: null, metrics, statsIntervalMs: 0 }))
      .handler(async () => jsonResponse({}));
    const countedGateway = await startHttpGateway((event, context) =>
      counted(event, context as PusherRequestContext),
    );
    try {
      await sdk('open', { server: countedGateway }).trigger('a', 'e', 'x');
      await refusal(sdk('open', { server: countedGateway, secret: 'wrong' }).trigger('a', 'e', 'x'));
    } finally {
      await countedGateway.close();
    }
    expect(lines).toMatchObject([
      {
        message: 'pusher request stats',
        service: 'routes',
        PusherRequestsAdmitted: 1,
        PusherRequestsRefused: 0,
      },
      { PusherRequestsAdmitted: 0, PusherRequestsRefused: 1, RateLimitAllowed: 0 },
    ]);
    expect(lines[0]!._aws).toMatchObject({ CloudWatchMetrics: [{ Namespace: 'PusherLambdaAuthorizer' }] });
  });
});

describe('pusherRequestMiddleware options', () => {
  it('refuses to be built without a resolver or without an explicit rate limiter choice', () => {
    expect(() => pusherRequestMiddleware({} as never)).toThrow(/resolver/);
    expect(() => pusherRequestMiddleware({ resolver } as never)).toThrow(/rateLimiter/);
    expect(() => pusherRequestMiddleware({ resolver, rateLimiter: null })).not.toThrow();
  });
});
