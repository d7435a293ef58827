import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayContext } from '../../../src/gateway/context.js';
import { greet } from '../../../src/gateway/greeter.js';
import { connectionsApi } from '../../../src/gateway/management-api.js';
import { createRateLimiter } from '../../../src/limits/index.js';
import { admitConnection } from '../../../src/state/connection-counter.js';
import { getConnection, putConnection } from '../../../src/state/connections.js';
import type { StateTable } from '../../../src/state/table.js';
import { ConnectionsApiStandIn } from '../../fixtures/gateway/connections-api.js';
import { createStateTable, type TestTable, testClient } from '../../support/dynamodb.js';
import { newConnectionId } from '../../support/events.js';
import { recordingLogger } from '../../support/recording-logger.js';

let table: TestTable;
let state: StateTable;
let standIn: ConnectionsApiStandIn;
let context: GatewayContext;

beforeAll(async () => {
  const client = testClient();
  table = await createStateTable(client, 'greeter');
  state = { client, tableName: table.name };
  standIn = await new ConnectionsApiStandIn().start();
  context = {
    state,
    connections: connectionsApi(standIn.endpoint, 'us-east-1'),
    rateLimiter: createRateLimiter({ client, tableName: table.name }),
    logger: recordingLogger(),
    now: () => Date.now(),
  };
});

afterAll(async () => {
  await standIn.close();
  await table.drop();
  state.client.destroy();
});

const request = (connectionId: string, refusal?: 4001) => ({
  connectionId,
  apiId: 'api',
  stage: 'test',
  ...(refusal === undefined ? {} : { refusal }),
});

describe('greet', () => {
  it('gives up on a connection that never opens and releases what $connect recorded for it', async () => {
    const connectionId = newConnectionId();
    const admission = await admitConnection(state, 'app-g', 1, Date.now());
    if (!admission.admitted) throw new Error('setup: not admitted');
    await putConnection(state, {
      connectionId,
      appId: 'app-g',
      connectedAtMs: Date.now(),
      bucket: admission.bucket,
      channels: [],
      user: undefined,
    });
    const goneBefore = standIn.goneAnswers;

    await expect(greet(context, request(connectionId), { retryForMs: 150 })).resolves.toBe('gone');

    expect(standIn.goneAnswers - goneBefore).toBeGreaterThan(2);
    expect(await getConnection(state, connectionId)).toBeUndefined();
    await expect(admitConnection(state, 'app-g', 1, Date.now())).resolves.toMatchObject({ admitted: true });
  });

  it('posts the refusal, then closes the connection', async () => {
    const connectionId = newConnectionId();
    standIn.open(connectionId);

    await expect(greet(context, request(connectionId, 4001))).resolves.toBe('refused');

    expect(standIn.framesOf(connectionId)).toEqual([
      { event: 'pusher:error', data: { code: 4001, message: 'Application does not exist' } },
    ]);
    expect(standIn.deleted).toContain(connectionId);
  });

  it('leaves a refused connection that is already gone alone', async () => {
    const connectionId = newConnectionId();

    await expect(greet(context, request(connectionId, 4001), { retryForMs: 50 })).resolves.toBe('gone');
    expect(standIn.deleted).not.toContain(connectionId);
  });
});
