import type { Logger } from '@aws-lambda-powertools/logger';
import { createRateLimiter, type RateLimiter } from '../limits/index.js';
import { createLogger } from '../observability/logger.js';
import { createStateTableClient, type StateTable } from '../state/table.js';
import { type GatewayConfig, loadGatewayConfig } from './config.js';

/**
 * What a handler module builds once, at cold start, before any `@connections` API: configuration, logger,
 * state table client and rate limiter. Kept apart from `GatewayRuntime` so that a handler that never posts
 * (the HTTP API read routes) does not bundle the API Gateway Management client.
 */
export interface StateRuntime {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly state: StateTable;
  readonly rateLimiter: RateLimiter;
}

export function createStateRuntime(serviceName: string): StateRuntime {
  const config = loadGatewayConfig();
  const logger = createLogger(serviceName);
  const state: StateTable = {
    client: createStateTableClient(config.base.appStore, config.region),
    tableName: config.stateTable,
  };
  const rateLimiter = createRateLimiter({ client: state.client, tableName: state.tableName, logger });
  return { config, logger, state, rateLimiter };
}
