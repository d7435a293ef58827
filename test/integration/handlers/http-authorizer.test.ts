import Pusher from 'pusher';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAppResolver } from '../../../src/apps/resolver.js';
import { authorizeHttpApiRequest } from '../../../src/authorizers/http-api.js';
import { loadConfig } from '../../../src/config/config.js';
import type { HttpAuthorizerEvent } from '../../../src/gateway/events.js';
import { type AppsTestTable, appsTestTable } from '../../fixtures/apps/apps-table.js';
import { appItem } from '../../fixtures/apps/items.js';
import {
  type AwsJsonProxy,
  closedPortEndpoint,
  DYNAMODB_FAULTS,
  startDynamoDbProxy,
} from '../../support/aws-json-proxy.js';
import { CaptureServer } from '../../support/capture-server.js';
import { dynamodbEndpoint } from '../../support/dynamodb.js';
import { httpEventsFromCapturedRequest } from '../../support/events.js';
import { capturedStdout, coldStart } from '../../support/handler-env.js';
import { lambdaContext } from '../../support/lambda-context.js';

type Handler = typeof import('../../../handlers/http-authorizer.js')['handler'];

let table: AppsTestTable;
let proxy: AwsJsonProxy;
let capture: CaptureServer;
let handler: Handler;

beforeAll(async () => {
  table = await appsTestTable('http-authorizer');
  await table.put(
    appItem('app-1'),
    appItem('app-2'),
    appItem('app-off', { Enabled: { BOOL: false } }),
    appItem('app-cold'),
    appItem('app-reset'),
    appItem('app-hang'),
  );
  proxy = await startDynamoDbProxy(dynamodbEndpoint());
  capture = await new CaptureServer().start();
  ({ handler } = await coldStart(() => import('../../../handlers/http-authorizer.js'), {
    APP_MANAGER_DYNAMODB_TABLE: table.name,
    APP_MANAGER_DYNAMODB_ENDPOINT: proxy.endpoint,
  }));
});

afterEach(() => {
  proxy.setFault(undefined);
  vi.useRealTimers();
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await capture.close();
  await proxy.close();
  await table.drop();
});

function sdk(appId: string, key = `${appId}-key`, secret = `${appId}-secret`): Pusher {
  return new Pusher({ appId, key, secret, host: capture.host, port: String(capture.port), useTLS: false });
}

/** What the SDK sends for `send`, as the authorizer's payload 2.0 event. */
async function authorizerEventFor(
  send: () => Promise<unknown>,
  stage?: string,
): Promise<HttpAuthorizerEvent> {
  const [, captured] = await Promise.all([send(), capture.next()]);
  return httpEventsFromCapturedRequest(captured, stage === undefined ? {} : { stage }).authorizerEvent;
}

const trigger = (pusher: Pusher) => () => pusher.trigger('my-channel', 'my-event', { hello: 'world' });
const invoke = (event: HttpAuthorizerEvent) => handler(event, lambdaContext('http-authorizer'));

describe('authorizeHttpApiRequest: why a request is refused', () => {
  const decide = (event: HttpAuthorizerEvent) =>
    authorizeHttpApiRequest(event, {
      resolver: createAppResolver({ client: table.client, tableName: table.name, config: loadConfig({}) }),
    });

  it.each([
    ['a wrong secret', () => sdk('app-1', 'app-1-key', 'wrong'), 'invalid-signature'],
    ['another app’s key and secret', () => sdk('app-1', 'app-2-key', 'app-2-secret'), 'unknown-key'],
    [
      'another app’s key with this app’s secret',
      () => sdk('app-1', 'app-2-key', 'app-1-secret'),
      'unknown-key',
    ],
    ['a disabled app', () => sdk('app-off'), 'app-disabled'],
    ['an unknown app', () => sdk('app-nobody'), 'unknown-app'],
  ])('%s', async (_, client, reason) => {
    await expect(decide(await authorizerEventFor(trigger(client())))).resolves.toMatchObject({
      isAuthorized: false,
      reason,
    });
  });

  it('a timestamp over 600 s away', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    // 601 s: at exactly 600 a second boundary crossed between signing and deciding reads as 599, which
    // passes (the 599/600 edge is unit-tested with a fixed clock).
    vi.setSystemTime(Date.now() + 601_000);
    const event = await authorizerEventFor(trigger(sdk('app-1')));
    vi.useRealTimers();
    await expect(decide(event)).resolves.toMatchObject({ isAuthorized: false, reason: 'timestamp-expired' });
  });
});

describe('HTTP API authorizer handler', () => {
  it('authorizes a real pusher SDK trigger and passes the app id and the signed body_md5 on', async () => {
    const event = await authorizerEventFor(trigger(sdk('app-1')));
    const bodyMd5 = new URLSearchParams(event.rawQueryString).get('body_md5');
    expect(bodyMd5).toMatch(/^[0-9a-f]{32}$/);
    await expect(invoke(event)).resolves.toEqual({
      isAuthorized: true,
      context: { appId: 'app-1', bodyMd5 },
    });
  });

  it('authorizes a GET with info and filter_by_prefix, which carries no body_md5', async () => {
    const pusher = sdk('app-1');
    const event = await authorizerEventFor(() =>
      pusher.get({ path: '/channels', params: { filter_by_prefix: 'presence-', info: 'user_count' } }),
    );
    await expect(invoke(event)).resolves.toEqual({
      isAuthorized: true,
      context: { appId: 'app-1', bodyMd5: '' },
    });
  });

  it('strips a named stage from the path before checking what the client signed', async () => {
    const event = await authorizerEventFor(trigger(sdk('app-1')), 'prod');
    expect(event.rawPath).toBe('/prod/apps/app-1/events');
    await expect(invoke(event)).resolves.toMatchObject({ isAuthorized: true });
  });

  it('denies a request signed with the wrong secret', async () => {
    const event = await authorizerEventFor(trigger(sdk('app-1', 'app-1-key', 'not-the-secret')));
    await expect(invoke(event)).resolves.toEqual({ isAuthorized: false, context: {} });
  });

  it('denies a request whose timestamp is 600 s or more away from the server clock', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() - 600_000);
    const event = await authorizerEventFor(trigger(sdk('app-1')));
    vi.useRealTimers();
    await expect(invoke(event)).resolves.toEqual({ isAuthorized: false, context: {} });
  });

  it('denies a request signed with another app’s key and secret', async () => {
    const event = await authorizerEventFor(trigger(sdk('app-1', 'app-2-key', 'app-2-secret')));
    await expect(invoke(event)).resolves.toEqual({ isAuthorized: false, context: {} });
  });

  it('denies a correctly signed request for a disabled app', async () => {
    const event = await authorizerEventFor(trigger(sdk('app-off')));
    await expect(invoke(event)).resolves.toEqual({ isAuthorized: false, context: {} });
  });

  it('denies an unknown app', async () => {
    const event = await authorizerEventFor(trigger(sdk('app-nobody')));
    await expect(invoke(event)).resolves.toEqual({ isAuthorized: false, context: {} });
  });

  it('fails the invocation (API Gateway answers 500, the SDK may retry) when DynamoDB cannot answer', async () => {
    const event = await authorizerEventFor(trigger(sdk('app-cold')));
    proxy.setFault(DYNAMODB_FAULTS.internalError);
    await expect(invoke(event)).rejects.toThrow(/unavailable/i);
    proxy.setFault(undefined);
    await expect(invoke(event)).resolves.toMatchObject({ isAuthorized: true });
  });

  it.each([
    ['drops connections', 'app-reset', DYNAMODB_FAULTS.reset],
    ['never answers (the client times out)', 'app-hang', DYNAMODB_FAULTS.hang],
  ])('fails the invocation when DynamoDB %s', async (_, appId, fault) => {
    const event = await authorizerEventFor(trigger(sdk(appId)));
    proxy.setFault(fault);
    await expect(invoke(event)).rejects.toThrow(/unavailable/i);
  });

  it('fails the invocation when nothing listens at the DynamoDB endpoint', async () => {
    const event = await authorizerEventFor(trigger(sdk('app-1')));
    const { handler: unreachable } = await coldStart(() => import('../../../handlers/http-authorizer.js'), {
      APP_MANAGER_DYNAMODB_TABLE: table.name,
      APP_MANAGER_DYNAMODB_ENDPOINT: await closedPortEndpoint(),
    });
    await expect(unreachable(event, lambdaContext())).rejects.toThrow(/unavailable/i);
  });

  it('hands the route the body_md5 the signature covers, even when the client spells the name in capitals', async () => {
    const event = await authorizerEventFor(trigger(sdk('app-1')));
    const bodyMd5 = new URLSearchParams(event.rawQueryString).get('body_md5');
    const shouted = { ...event, rawQueryString: event.rawQueryString.replace('body_md5=', 'BODY_MD5=') };
    await expect(invoke(shouted)).resolves.toEqual({
      isAuthorized: true,
      context: { appId: 'app-1', bodyMd5 },
    });
  });

  it('resolves each app once on a warm container', async () => {
    const event = await authorizerEventFor(trigger(sdk('app-2')));
    const before = proxy.count();
    for (let i = 0; i < 20; i++) await invoke(event);
    expect(proxy.count() - before).toBe(1);
  });

  it('logs allows at DEBUG and denials at INFO with app, reason, latency and cache counters, never the secret or a signature', async () => {
    const allowed = await authorizerEventFor(trigger(sdk('app-1')));
    const forged = await authorizerEventFor(trigger(sdk('app-1', 'app-1-key', 'forged-secret')));
    const { handler: logging } = await coldStart(() => import('../../../handlers/http-authorizer.js'), {
      APP_MANAGER_DYNAMODB_TABLE: table.name,
      APP_MANAGER_DYNAMODB_ENDPOINT: proxy.endpoint,
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
    });
    const output = await capturedStdout(async () => {
      await logging(allowed, lambdaContext());
      await logging(forged, lambdaContext());
    });
    const lines = output
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const decisions = lines.filter((line) => line.message === 'authorizer decision');
    expect(decisions).toMatchObject([
      { level: 'DEBUG', decision: 'allow', appId: 'app-1' },
      { level: 'INFO', decision: 'deny', appId: 'app-1', reason: 'invalid-signature', cache: { hits: 1 } },
    ]);
    for (const decision of decisions) {
      expect(decision.latencyMs).toBeTypeOf('number');
      expect(decision.cold_start).toBeTypeOf('boolean');
    }
    expect(output).not.toContain('app-1-secret');
    expect(output).not.toContain('forged-secret');
    for (const event of [allowed, forged]) {
      const signature = new URLSearchParams(event.rawQueryString).get('auth_signature')!;
      expect(output).not.toContain(signature);
    }
  });
});
