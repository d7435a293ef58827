import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { WsConnectAuthorizerEvent } from '../../../src/gateway/events.js';
import { type AppsTestTable, appsTestTable } from '../../fixtures/apps/apps-table.js';
import { appItem, bytes } from '../../fixtures/apps/items.js';
import { dynamodbEndpoint } from '../../support/dynamodb.js';
import { DYNAMODB_FAULTS, type DynamoDbProxy, startDynamoDbProxy } from '../../support/dynamodb-proxy.js';
import { pusherJsConnectQuery, wsConnectAuthorizerEvent } from '../../support/events.js';
import { capturedStdout, coldStart } from '../../support/handler-env.js';
import { lambdaContext } from '../../support/lambda-context.js';

type Handler = typeof import('../../../handlers/ws-connect-authorizer.js')['handler'];

let table: AppsTestTable;
let proxy: DynamoDbProxy;
let handler: Handler;

beforeAll(async () => {
  table = await appsTestTable('ws-authorizer');
  await table.put(
    appItem('app-1'),
    // soketi's documented item stores Enabled as bytes; this one says false and must be read so.
    appItem('app-off', { Enabled: bytes('false') }),
    appItem('app-cold'),
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

function denial(event: WsConnectAuthorizerEvent) {
  return {
    principalId: 'anonymous',
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: event.methodArn }],
    },
  };
}

describe('WebSocket $connect authorizer handler', () => {
  it('allows the query pusher-js sends after the path rewrite, with a flat context and no secret', async () => {
    const event = connect('app-1-key');
    expect(event.methodArn).toMatch(/\/\$connect$/);
    const result = await invoke(event);
    expect(result).toEqual({
      principalId: 'app-1-key',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }],
      },
      context: { appId: 'app-1', appKey: 'app-1-key' },
    });
    expect(JSON.stringify(result)).not.toContain('app-1-secret');
  });

  it('allows a client that leaves out the protocol version', async () => {
    await expect(invoke(connect('app-1-key', { protocol: undefined }))).resolves.toMatchObject({
      context: { appId: 'app-1' },
    });
  });

  it.each([
    ['an unknown key', connect('nobody-key')],
    ['a disabled app (Enabled stored as the bytes "false")', connect('app-off-key')],
    ['an unsupported protocol version', connect('app-1-key', { protocol: '6' })],
    ['a missing key', connect('', {})],
  ])('denies %s for the $connect method', async (_, event) => {
    await expect(invoke(event)).resolves.toEqual(denial(event));
  });

  it('throws, so API Gateway answers 500 and the client retries, when DynamoDB cannot answer', async () => {
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
