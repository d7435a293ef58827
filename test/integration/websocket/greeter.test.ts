import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayContext } from '../../../src/gateway/context.js';
import { admitConnection } from '../../../src/state/connection-counter.js';
import { getConnection, putConnection } from '../../../src/state/connections.js';
import type { StateTable } from '../../../src/state/table.js';
import {
  configuredGreeterInvoker,
  GREETER_DEFAULTS,
  greet,
  greetInvocation,
} from '../../../src/websocket/greeter.js';
import type { ConnectionsApiStandIn } from '../../fixtures/gateway/connections-api.js';
import { startTestGateway, type TestGateway } from '../../fixtures/gateway/test-gateway.js';
import { newConnectionId } from '../../support/events.js';
import { recordingLogger } from '../../support/recording-logger.js';

let gateway: TestGateway;
let state: StateTable;
let standIn: ConnectionsApiStandIn;
let context: GatewayContext;

beforeAll(async () => {
  gateway = await startTestGateway('greeter');
  ({ state, standIn, context } = gateway);
});

afterAll(() => gateway.close());

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
      webhooks: '',
    });
    const goneBefore = standIn.goneAnswers;

    // A clock that moves only when the greeter waits: its tries are those of an idle machine.
    let clock = Date.now();
    const timed = { ...context, now: () => clock };
    const sleep = async (ms: number) => {
      clock += ms;
    };
    await expect(greet(timed, request(connectionId), { retryForMs: 150, sleep })).resolves.toBe('gone');

    // Tries at 0, 25, 75 (25 + 50) and 150 ms (the last wait cut to what is left of the 150).
    expect(standIn.goneAnswers - goneBefore).toBe(4);
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

    const options = { ...GREETER_DEFAULTS, retryForMs: 50 };
    await expect(greet(context, request(connectionId, 4001), options)).resolves.toBe('gone');
    expect(standIn.deleted).not.toContain(connectionId);
  });
});

describe('a greeter invocation', () => {
  const deps = () => {
    const logger = recordingLogger();
    return { logger, contextFor: () => ({ ...context, logger }) };
  };

  it('greets the connection its payload names, and logs the outcome', async () => {
    const connectionId = newConnectionId();
    standIn.open(connectionId);
    const { logger, contextFor } = deps();

    await expect(greetInvocation({ logger, contextFor }, request(connectionId))).resolves.toBe('welcomed');
    expect(standIn.framesOf(connectionId)[0]?.event).toBe('pusher:connection_established');
    expect(logger.text()).toContain('welcomed');
  });

  it.each([null, 'text', { connectionId: '' }, { connectionId: 'c', apiId: 'a', stage: 's', refusal: 4999 }])(
    'answers "invalid" for the payload %j, without throwing',
    async (payload) => {
      const { logger, contextFor } = deps();
      await expect(greetInvocation({ logger, contextFor }, payload)).resolves.toBe('invalid');
      expect(logger.text()).toContain('invalid greeting request');
    },
  );

  it('answers "failed" when greeting throws, without throwing', async () => {
    const { logger } = deps();
    const contextFor = () => {
      throw new Error('no endpoint');
    };
    await expect(greetInvocation({ logger, contextFor }, request(newConnectionId()))).resolves.toBe('failed');
    expect(logger.text()).toContain('greeting failed');
  });
});

describe('the configured greeter', () => {
  it('needs GREETER_FUNCTION_NAME', () => {
    expect(() => configuredGreeterInvoker({ greeterFunctionName: undefined, region: 'us-east-1' })).toThrow(
      /GREETER_FUNCTION_NAME/,
    );
  });
});
