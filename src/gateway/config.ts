import { type AppStoreConfig, loadAppStoreConfig } from '../config/config.js';
import { type Env, readNumber, readUrl, readVariable } from '../config/env.js';
import { ConfigError } from '../errors/errors.js';
import { type OpsRate, UNLIMITED_OPS } from '../state/connection-ops.js';
import type { ConnectionLimits } from '../state/connections.js';
import { type SweepPlan, sweepPlan } from '../state/sweep-entries.js';

/**
 * What the WebSocket handlers, the HTTP routes that post and the fan-out worker read from the environment.
 * The apps cache and limit defaults are read only by the Lambdas that look apps up (`loadConfig`).
 */
export interface GatewayConfig {
  /** Where the apps table is; its DynamoDB endpoint serves the state table too. */
  readonly appStore: AppStoreConfig;
  /** `STATE_TABLE`: connections, subscriptions, counters. Required. */
  readonly stateTable: string;
  /** `AWS_REGION`: where the state table and the WebSocket API are. */
  readonly region: string;
  /**
   * `WEBSOCKET_API_ENDPOINT`: the `@connections` endpoint. The stage sets it for every function that posts;
   * the HTTP API routes and the fan-out worker need it (no WebSocket event names the stage), the WebSocket
   * routes fall back to the event's `apiId` and `stage` without it.
   */
  readonly connectionsEndpoint: string | undefined;
  /** `GREETER_FUNCTION_NAME`: the Lambda `$connect` invokes to greet or refuse (only `$connect` needs it). */
  readonly greeterFunctionName: string | undefined;
  /** `WEBHOOK_QUEUE_URL`: the SQS queue webhook events go to; unset, none is raised. */
  readonly webhookQueueUrl: string | undefined;
}

export function loadGatewayConfig(env: Env = process.env): GatewayConfig {
  const appStore = loadAppStoreConfig(env);
  const stateTable = readVariable(env, 'STATE_TABLE')?.value;
  if (stateTable === undefined) throw new ConfigError('STATE_TABLE', 'required by the WebSocket handlers');
  return Object.freeze({
    appStore,
    stateTable,
    region: env.AWS_REGION?.trim() || appStore.region,
    connectionsEndpoint: readUrl(env, 'WEBSOCKET_API_ENDPOINT'),
    greeterFunctionName: readVariable(env, 'GREETER_FUNCTION_NAME')?.value,
    webhookQueueUrl: readUrl(env, 'WEBHOOK_QUEUE_URL'),
  });
}

/**
 * `MAX_CHANNELS_PER_CONNECTION` (default 100): subscriptions one connection may hold at once.
 * `CONNECTION_OPS_PER_SECOND` (default 10, negative for unlimited) and `CONNECTION_OPS_BURST` (default 100):
 * how fast it may subscribe and sign in; unsubscribes use the same credit, never refused. Read at cold start
 * by `$default` only, apart from the gateway configuration every WebSocket Lambda reads.
 */
export function loadConnectionLimits(env: Env = process.env): ConnectionLimits {
  return {
    maxChannels: readNumber(env, 'MAX_CHANNELS_PER_CONNECTION', 100, { min: 1, max: 10_000, integer: true }),
    ops: loadOpsRate(env),
  };
}

function loadOpsRate(env: Env): OpsRate {
  const perSecond = readNumber(env, 'CONNECTION_OPS_PER_SECOND', 10, {
    negativeIsUnlimited: true,
    min: 0.01,
    max: 1_000,
  });
  if (!Number.isFinite(perSecond)) return UNLIMITED_OPS;
  return {
    perSecond,
    burst: readNumber(env, 'CONNECTION_OPS_BURST', 100, { min: 1, max: 10_000, integer: true }),
  };
}

/**
 * `GHOST_CONNECTION_BOUND_SECONDS` (default 300) and `CONNECTION_SWEEP_PERIOD_SECONDS` (default 60, the
 * sweeper's schedule): how lost `$disconnect`s are found, read at cold start by `$connect` and the sweeper.
 */
export function loadSweepPlan(env: Env = process.env): SweepPlan {
  const periodSeconds = readNumber(env, 'CONNECTION_SWEEP_PERIOD_SECONDS', 60, { min: 1, max: 3_600 });
  const boundSeconds = readNumber(env, 'GHOST_CONNECTION_BOUND_SECONDS', 300, { min: 3, max: 7_200 });
  const plan = sweepPlan(boundSeconds * 1_000, periodSeconds * 1_000);
  if (plan === undefined) {
    throw new ConfigError(
      'GHOST_CONNECTION_BOUND_SECONDS',
      `must be at least three sweep periods (CONNECTION_SWEEP_PERIOD_SECONDS=${periodSeconds}), got ${boundSeconds}`,
    );
  }
  return plan;
}

/**
 * The `@connections` endpoint of the stage an event came through. Built from `apiId` and `stage`, which
 * custom domains and CloudFront leave alone (`domainName` would be theirs), unless configured.
 */
export function connectionsEndpointOf(
  requestContext: { readonly apiId: string; readonly stage: string },
  config: Pick<GatewayConfig, 'region' | 'connectionsEndpoint'>,
): string {
  return (
    config.connectionsEndpoint ??
    `https://${requestContext.apiId}.execute-api.${config.region}.amazonaws.com/${requestContext.stage}`
  );
}
