import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectionIdOf } from '../../../src/gateway/socket-id.js';
import { getConnection } from '../../../src/state/connections.js';
import { stateKeys } from '../../../src/state/keys.js';
import { appItem, bytes } from '../../fixtures/apps/items.js';
import { GREETER_FUNCTION_NAME, WsHarness } from '../../fixtures/gateway/ws-harness.js';
import { type AwsJsonProxy, DYNAMODB_FAULTS, startDynamoDbProxy } from '../../support/aws-json-proxy.js';
import { dynamodbEndpoint } from '../../support/dynamodb.js';
import { newConnectionId, wsProxyEvent } from '../../support/events.js';
import { lambdaContext } from '../../support/lambda-context.js';

let proxy: AwsJsonProxy;
let gateway: WsHarness;

beforeAll(async () => {
  proxy = await startDynamoDbProxy(dynamodbEndpoint());
  gateway = await WsHarness.start(
    'ws-connect',
    [
      appItem('app-1'),
      appItem('app-off', { Enabled: bytes('false') }),
      appItem('app-quota', { MaxConnections: { N: '1' } }),
      appItem('app-cold'),
      appItem('app-unlimited'),
    ],
    { dynamodbEndpoint: proxy.endpoint },
  );
});

afterEach(() => proxy.setFault(undefined));

afterAll(async () => {
  await gateway?.close();
  await proxy?.close();
});

async function record(connectionId: string) {
  const { Item } = await gateway.state.client.send(
    new GetItemCommand({ TableName: gateway.state.tableName, Key: stateKeys.connection(connectionId) }),
  );
  return Item;
}

describe('WebSocket $connect and the greeter', () => {
  it('opens the connection and greets it with its socket id and the activity timeout, data as a JSON string', async () => {
    const { connectionId, status } = await gateway.upgrade('app-1-key');

    expect(status).toBe(200);
    const frames = gateway.connectionsApi.framesOf(connectionId);
    expect(frames).toHaveLength(1);
    expect(frames[0]!.event).toBe('pusher:connection_established');
    expect(typeof frames[0]!.data).toBe('string');
    const data = JSON.parse(frames[0]!.data as string);
    expect(data).toEqual({ socket_id: expect.stringMatching(/^\d+\.\d+$/), activity_timeout: 120 });
    expect(connectionIdOf(data.socket_id)).toBe(connectionId);
    expect(await record(connectionId)).toMatchObject({ appId: { S: 'app-1' } });
  });

  it('invokes the greeter asynchronously, with the connection and the API and stage it came through', async () => {
    const before = gateway.lambdaApi.invocations.length;
    const { connectionId } = await gateway.upgrade('app-1-key');

    expect(gateway.lambdaApi.invocations.slice(before)).toEqual([
      {
        functionName: GREETER_FUNCTION_NAME,
        invocationType: 'Event',
        payload: { connectionId, apiId: 'abcdef123', stage: 'default' },
      },
    ]);
  });

  it('retries the greeting while API Gateway has not opened the connection yet (410)', async () => {
    const goneBefore = gateway.connectionsApi.goneAnswers;
    const { connectionId } = await gateway.upgrade('app-1-key', { openLate: true });

    expect(gateway.connectionsApi.goneAnswers - goneBefore).toBe(1);
    expect(gateway.connectionsApi.framesOf(connectionId).map((frame) => frame.event)).toEqual([
      'pusher:connection_established',
    ]);
  });

  it.each([
    {
      why: 'an unknown key',
      key: 'nobody-key',
      query: {},
      code: 4001,
      message: 'Application does not exist',
    },
    { why: 'a disabled app', key: 'app-off-key', query: {}, code: 4003, message: 'Application disabled' },
    {
      why: 'an unsupported protocol',
      key: 'app-1-key',
      query: { protocol: '3' },
      code: 4007,
      message: 'Unsupported protocol version',
    },
    {
      why: 'a malformed protocol version',
      key: 'app-1-key',
      query: { protocol: 'v7' },
      code: 4006,
      message: 'Invalid version string format',
    },
  ])(
    'refuses $why with pusher:error $code, then closes the connection, recording nothing',
    async ({ key, query, code, message }) => {
      const { connectionId, status } = await gateway.upgrade(key, { query });

      expect(status).toBe(200);
      expect(gateway.connectionsApi.framesOf(connectionId)).toEqual([
        { event: 'pusher:error', data: { code, message } },
      ]);
      expect(gateway.connectionsApi.deleted).toContain(connectionId);
      expect(await record(connectionId)).toBeUndefined();
    },
  );

  it('refuses the connection over MaxConnections with 4004 and admits again once one leaves', async () => {
    const first = await gateway.connect('app-quota-key');
    const over = await gateway.upgrade('app-quota-key');

    expect(gateway.connectionsApi.framesOf(over.connectionId)).toEqual([
      { event: 'pusher:error', data: { code: 4004, message: 'Application is over connection quota' } },
    ]);
    expect(gateway.connectionsApi.deleted).toContain(over.connectionId);

    await gateway.disconnect(first.connectionId);
    await expect(gateway.connect('app-quota-key')).resolves.toMatchObject({ socketId: /^\d+\.\d+$/ });
  });

  it('writes no counter for an unlimited app', async () => {
    await gateway.connect('app-1-key');

    const { Item } = await gateway.state.client.send(
      new GetItemCommand({ TableName: gateway.state.tableName, Key: stateKeys.connectionCounter('app-1') }),
    );
    expect(Item).toBeUndefined();
  });

  it('fails the upgrade (500, retried with backoff by pusher-js) when DynamoDB cannot answer, never a 4001', async () => {
    proxy.setFault(DYNAMODB_FAULTS.throttling);
    const before = gateway.lambdaApi.invocations.length;
    const { status } = await gateway.upgrade('app-cold-key');

    expect(status).toBe(500);
    expect(gateway.lambdaApi.invocations.length).toBe(before);
    proxy.setFault(undefined);
    await expect(gateway.connect('app-cold-key')).resolves.toMatchObject({ socketId: /^\d+\.\d+$/ });
  });

  it('leaves no record of a connection whose sweep entry (or record) could not be written', async () => {
    // The record is written; the sweep entry's PutItem fails, retries included.
    proxy.setFault(DYNAMODB_FAULTS.internalError, {
      operation: 'PutItem',
      bodyIncludes: '"sweep#',
      after: 0,
      times: 10,
    });
    const { connectionId, status } = await gateway.upgrade('app-1-key');
    proxy.setFault(undefined);

    expect(status).toBe(500);
    expect(await getConnection(gateway.state, connectionId)).toBeUndefined();
  });
});

describe('$connect takes the app from the authorizer context', () => {
  /** A `$connect` event as API Gateway builds it from this authorizer context (values stringified). */
  function connectEvent(connectionId: string, context?: Record<string, string | number>) {
    return wsProxyEvent({
      routeKey: '$connect',
      connectionId,
      ...(context && { authorizer: { principalId: 'some-key', ...context } }),
    });
  }

  it('makes no apps-table call, even cold: an unlimited app costs two PutItems (its record, its sweep entry)', async () => {
    const container = await gateway.loadContainer();
    const connectionId = newConnectionId();
    gateway.connectionsApi.open(connectionId);
    proxy.resetCounts();

    const context = { appId: 'app-1', appKey: 'app-1-key', maxConnections: -1 };
    const result = await container.connect(connectEvent(connectionId, context), lambdaContext('ws-connect'));
    await gateway.lambdaApi.settled();

    expect(result.statusCode).toBe(200);
    expect([proxy.count(), proxy.count('PutItem')]).toEqual([2, 2]);
    expect(gateway.connectionsApi.framesOf(connectionId)[0]?.event).toBe('pusher:connection_established');
  });

  it("enforces the context's MaxConnections, whatever the apps table holds", async () => {
    // Unlimited in the table: only the context limits it here.
    const context = { appId: 'app-unlimited', appKey: 'app-unlimited-key', maxConnections: 1 };
    const [first, second] = [newConnectionId(), newConnectionId()];
    for (const connectionId of [first, second]) {
      gateway.connectionsApi.open(connectionId);
      await gateway.handlers.connect(connectEvent(connectionId, context), lambdaContext('ws-connect'));
      await gateway.lambdaApi.settled();
    }

    expect(gateway.connectionsApi.framesOf(first!)[0]?.event).toBe('pusher:connection_established');
    expect(gateway.connectionsApi.framesOf(second!)).toEqual([
      { event: 'pusher:error', data: { code: 4004, message: 'Application is over connection quota' } },
    ]);
  });

  it.each<{ why: string; context: Record<string, string | number> | undefined; message: RegExp }>([
    { why: 'no context of the $connect authorizer', context: undefined, message: /without appId/ },
    {
      why: 'an older authorizer (no maxConnections)',
      context: { appId: 'app-1', appKey: 'app-1-key' },
      message: /app "app-1" without a valid maxConnections .*\(got none\)/,
    },
    {
      why: 'a maxConnections it never writes',
      context: { appId: 'app-1', appKey: 'app-1-key', maxConnections: 'unlimited' },
      message: /\(got "unlimited"\)/,
    },
    { why: 'no appId', context: { appKey: 'app-1-key', maxConnections: '-1' }, message: /without appId/ },
  ])('fails the upgrade (500) on $why, admitting nobody without a limit', async ({ context, message }) => {
    const before = gateway.lambdaApi.invocations.length;
    const connectionId = newConnectionId();

    await expect(
      gateway.handlers.connect(connectEvent(connectionId, context), lambdaContext('ws-connect')),
    ).rejects.toMatchObject({
      name: 'AuthorizerContextError',
      status: 500,
      message: expect.stringMatching(message),
    });
    expect(gateway.lambdaApi.invocations.length).toBe(before);
    expect(await record(connectionId)).toBeUndefined();
  });
});

describe('the greeter handler', () => {
  it.each([
    { why: 'no connection id', payload: { apiId: 'a', stage: 's' } },
    { why: 'an unknown refusal code', payload: { connectionId: 'c', apiId: 'a', stage: 's', refusal: 4999 } },
    { why: 'not an object', payload: 'hello' },
  ])(
    'answers a payload with $why as invalid, without throwing (Lambda would retry it)',
    async ({ payload }) => {
      await expect(gateway.handlers.greeter(payload, lambdaContext('ws-greeter'))).resolves.toBe('invalid');
    },
  );
});
