import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { WsConnectAuthorizerEvent } from '../../../src/gateway/events.js';
import { type AppsTestTable, appsTestTable } from '../../fixtures/apps/apps-table.js';
import { appItem, bytes } from '../../fixtures/apps/items.js';
import { type AwsJsonProxy, DYNAMODB_FAULTS, startDynamoDbProxy } from '../../support/aws-json-proxy.js';
import { dynamodbEndpoint } from '../../support/dynamodb.js';
import { pusherJsConnectQuery, wsConnectAuthorizerEvent } from '../../support/events.js';
import { capturedStdout, coldStart } from '../../support/handler-env.js';
import { lambdaContext } from '../../support/lambda-context.js';

type Handler = typeof import('../../../handlers/ws-connect-authorizer.js')['handler'];

let table: AppsTestTable;
let proxy: AwsJsonProxy;
let handler: Handler;

beforeAll(async () => {
  table = await appsTestTable('ws-authorizer');
  await table.put(
    appItem('app-1'),
    // soketi's documented item stores Enabled as bytes; this one says false and must be read so.
    appItem('app-off', { Enabled: bytes('false') }),
    appItem('app-cold'),
    appItem('app-limited', { MaxConnections: { N: '5' } }),
    // soketi reads MaxConnections 0 as unlimited.
    appItem('app-zero', { MaxConnections: { N: '0' } }),
    // A limit no count reaches, beyond what a context value can carry exactly.
    appItem('app-huge', { MaxConnections: { N: '1e17' } }),
    appItem('app-hooks', {
      Webhooks: {
        S: JSON.stringify([
          { url: 'https://h.example/in?token=s3cret', event_types: ['member_removed', 'channel_vacated'] },
          { lambda_function: 'audit', event_types: ['client_event'], headers: { 'X-Token': 'hdr-t0ken' } },
        ]),
      },
    }),
  );
  proxy = await startDynamoDbProxy(dynamodbEndpoint());
  ({ handler } = await coldStart(() => import('../../../handlers/ws-connect-authorizer.js'), {
    APP_MANAGER_DYNAMODB_TABLE: table.name,
    APP_MANAGER_DYNAMODB_ENDPOINT: proxy.endpoint,
  }));
});

afterEach(() => proxy.setFault(undefined));

afterAll(async () => {
  vi.unstubAllEnvs();
  await proxy.close();
  await table.drop();
});

const invoke = (event: WsConnectAuthorizerEvent) => handler(event, lambdaContext('ws-connect-authorizer'));

function connect(key: string, overrides: Record<string, string | undefined> = {}): WsConnectAuthorizerEvent {
  return wsConnectAuthorizerEvent({ query: pusherJsConnectQuery(key, overrides) });
}

function policy(event: WsConnectAuthorizerEvent, effect: 'Allow' | 'Deny') {
  return {
    Version: '2012-10-17',
    Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: event.methodArn }],
  };
}

describe('WebSocket $connect authorizer handler', () => {
  it('allows the query pusher-js sends after the path rewrite, with a flat context and no secret', async () => {
    const event = connect('app-1-key');
    expect(event.methodArn).toMatch(/\/\$connect$/);
    const result = await invoke(event);
    expect(result).toEqual({
      principalId: 'app-1-key',
      policyDocument: policy(event, 'Allow'),
      context: { appId: 'app-1', appKey: 'app-1-key', maxConnections: '-1', webhooks: '' },
    });
    expect(JSON.stringify(result)).not.toContain('app-1-secret');
  });

  it('hands on the webhook event types the app asks for, for $disconnect, and nothing else of its webhooks', async () => {
    const result = await invoke(connect('app-hooks-key'));
    expect(result.context?.webhooks).toBe('channel_vacated,member_removed,client_event');
    for (const secret of ['s3cret', 'h.example', 'hdr-t0ken', 'audit']) {
      expect(JSON.stringify(result)).not.toContain(secret);
    }
  });

  it.each([
    { key: 'app-limited-key', maxConnections: '5' },
    { key: 'app-zero-key', maxConnections: '-1' },
    { key: 'app-huge-key', maxConnections: '-1' },
  ])(
    'hands the connect route the MaxConnections of $key as $maxConnections (-1: unlimited), so it need not read the app',
    async ({ key, maxConnections }) => {
      const { context } = await invoke(connect(key));
      expect(context?.maxConnections).toBe(maxConnections);
    },
  );

  it('allows a client that leaves out the protocol version', async () => {
    await expect(invoke(connect('app-1-key', { protocol: undefined }))).resolves.toMatchObject({
      context: { appId: 'app-1' },
    });
  });

  // Pusher: 7 is current, 1-3 are unsupported; pusher-js versions in use send 4 to 7.
  it.each(['4', '5', '6', '7'])('allows protocol version %s', async (protocol) => {
    await expect(invoke(connect('app-1-key', { protocol }))).resolves.toMatchObject({
      context: { appId: 'app-1' },
    });
  });

  it.each([
    ['1', '4007'],
    ['3', '4007'],
    ['8', '4007'],
    ['seven', '4006'],
    ['7.0', '4006'],
    ['', '4006'],
  ])('refuses protocol %j with %s', async (protocol, refusal) => {
    await expect(invoke(connect('app-1-key', { protocol }))).resolves.toMatchObject({
      context: { refusal, appKey: 'app-1-key' },
    });
  });

  it.each([
    { why: 'an unknown key', event: connect('nobody-key'), refusal: '4001', appKey: 'nobody-key' },
    {
      why: 'a disabled app (Enabled stored as the bytes "false")',
      event: connect('app-off-key'),
      refusal: '4003',
      appKey: 'app-off-key',
    },
    {
      why: 'an unsupported protocol version',
      event: connect('app-1-key', { protocol: '3' }),
      refusal: '4007',
      appKey: 'app-1-key',
    },
  ])(
    'lets $why in marked with refusal $refusal, for the greeter to tell pusher-js, and names no app',
    async ({ event, refusal, appKey }) => {
      // Allowed at the gateway so the greeter can post pusher:error: a failed upgrade would make pusher-js retry forever.
      await expect(invoke(event)).resolves.toEqual({
        principalId: 'anonymous',
        policyDocument: policy(event, 'Allow'),
        context: { refusal, appKey },
      });
    },
  );

  it('denies a request without a key: no Pusher client sends one, so there is nobody to tell', async () => {
    const event = connect('', {});
    await expect(invoke(event)).resolves.toEqual({
      principalId: 'anonymous',
      policyDocument: policy(event, 'Deny'),
    });
  });

  it('marks a refused key in the context no longer than an app key can be', async () => {
    const longKey = 'k'.repeat(5_000);
    const result = await invoke(connect(longKey));
    expect(result.context).toEqual({ refusal: '4001', appKey: 'k'.repeat(256) });
  });

  it('throws, so API Gateway answers 500 and the client retries, when DynamoDB cannot answer: never a 4001', async () => {
    proxy.setFault(DYNAMODB_FAULTS.throttling);
    await expect(invoke(connect('app-cold-key'))).rejects.toThrow(/unavailable/i);
    proxy.setFault(undefined);
    await expect(invoke(connect('app-cold-key'))).resolves.toMatchObject({ context: { appId: 'app-cold' } });
  });

  it('remembers an unknown key, so a client retrying it does not reach DynamoDB each time', async () => {
    const before = proxy.count();
    for (let i = 0; i < 10; i++) await invoke(connect('sprayed-key'));
    expect(proxy.count() - before).toBe(1);
  });

  it('logs the decision and its reason', async () => {
    const { handler: logging } = await coldStart(() => import('../../../handlers/ws-connect-authorizer.js'), {
      APP_MANAGER_DYNAMODB_TABLE: table.name,
      APP_MANAGER_DYNAMODB_ENDPOINT: proxy.endpoint,
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
    });
    const output = await capturedStdout(async () => {
      await logging(connect('app-1-key'), lambdaContext());
      await logging(connect('app-off-key'), lambdaContext());
    });
    const decisions = output
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
      .filter((line) => line.message === 'authorizer decision');
    expect(decisions).toMatchObject([
      { level: 'DEBUG', decision: 'allow', appId: 'app-1', appKey: 'app-1-key' },
      { level: 'INFO', decision: 'deny', reason: 'app-disabled', appKey: 'app-off-key' },
    ]);
    expect(output).not.toContain('secret');
  });
});
