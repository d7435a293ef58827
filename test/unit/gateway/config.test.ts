import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors/errors.js';
import {
  connectionsEndpointOf,
  loadConnectionLimits,
  loadGatewayConfig,
  loadSweepPlan,
} from '../../../src/gateway/config.js';
import { UNLIMITED_OPS } from '../../../src/state/connection-ops.js';

describe('loadGatewayConfig', () => {
  it('reads the sweep plan, and refuses a ghost bound under three sweep periods, naming the variable', () => {
    const env = { STATE_TABLE: 'state', AWS_REGION: 'eu-west-1' };
    expect(loadSweepPlan(env)).toEqual({ periodMs: 60_000, slots: 3, minAgeMs: 30_000 });
    expect(() =>
      loadSweepPlan({
        ...env,
        CONNECTION_SWEEP_PERIOD_SECONDS: '120',
        GHOST_CONNECTION_BOUND_SECONDS: '300',
      }),
    ).toThrow(/GHOST_CONNECTION_BOUND_SECONDS.*three sweep periods/);
  });

  it('reads the per-connection limits: 100 channels, 10 subscribes or signins a second in bursts of 100', () => {
    const env = { STATE_TABLE: 'state', AWS_REGION: 'eu-west-1' };
    expect(loadConnectionLimits(env)).toEqual({
      maxChannels: 100,
      ops: { perSecond: 10, burst: 100 },
    });
    expect(
      loadConnectionLimits({ ...env, CONNECTION_OPS_PER_SECOND: '2.5', CONNECTION_OPS_BURST: '20' }).ops,
    ).toEqual({ perSecond: 2.5, burst: 20 });
    expect(loadConnectionLimits({ ...env, CONNECTION_OPS_PER_SECOND: '-1' }).ops).toEqual(UNLIMITED_OPS);
    expect(() => loadConnectionLimits({ ...env, CONNECTION_OPS_PER_SECOND: '0' })).toThrow(
      /CONNECTION_OPS_PER_SECOND.*at least 0.01/,
    );
    expect(() => loadConnectionLimits({ ...env, CONNECTION_OPS_BURST: '1.5' })).toThrow(
      /CONNECTION_OPS_BURST.*whole number/,
    );
  });

  it('requires STATE_TABLE', () => {
    expect(() => loadGatewayConfig({ AWS_REGION: 'eu-west-1' })).toThrow(ConfigError);
  });

  it('reads the table, region, endpoint override and greeter name (SOKETI_ prefix accepted)', () => {
    expect(
      loadGatewayConfig({
        SOKETI_STATE_TABLE: 'state',
        AWS_REGION: 'eu-west-1',
        WEBSOCKET_API_ENDPOINT: 'http://127.0.0.1:3001',
        GREETER_FUNCTION_NAME: 'svc-dev-wsGreeter',
      }),
    ).toMatchObject({
      stateTable: 'state',
      region: 'eu-west-1',
      connectionsEndpoint: 'http://127.0.0.1:3001',
      greeterFunctionName: 'svc-dev-wsGreeter',
    });
  });

  it('refuses an endpoint that is not an http(s) URL, naming the variable', () => {
    expect(() => loadGatewayConfig({ STATE_TABLE: 's', WEBSOCKET_API_ENDPOINT: 'wss://x' })).toThrow(
      /WEBSOCKET_API_ENDPOINT/,
    );
  });
});

describe('connectionsEndpointOf', () => {
  const requestContext = { apiId: 'abc123', stage: 'prod' };

  it('builds the @connections endpoint from the API id, region and stage, not from the (custom) domain', () => {
    expect(
      connectionsEndpointOf(requestContext, { region: 'eu-west-1', connectionsEndpoint: undefined }),
    ).toBe('https://abc123.execute-api.eu-west-1.amazonaws.com/prod');
  });

  it('uses the configured endpoint when there is one', () => {
    expect(
      connectionsEndpointOf(requestContext, {
        region: 'eu-west-1',
        connectionsEndpoint: 'http://127.0.0.1:3001',
      }),
    ).toBe('http://127.0.0.1:3001');
  });
});
