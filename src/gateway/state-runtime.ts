import type { Logger } from '@aws-lambda-powertools/logger';
import { createLogger } from '../observability/logger.js';
import { createStateTableClient, type StateTable } from '../state/table.js';
import { type GatewayConfig, loadGatewayConfig } from './config.js';

/**
 * What a handler module builds once, at cold start, before any `@connections` API: configuration, logger and
 * state table client. Kept apart from `GatewayRuntime` so that a handler that never posts (the HTTP API read
 * routes) does not bundle the API Gateway Management client. Only the handlers that enforce rates (`$default`,
 * the HTTP API routes) build a rate limiter on its state table, so the others do not bundle one.
 */
export interface StateRuntime {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly state: StateTable;
}

export function createStateRuntime(serviceName: string): StateRuntime {
  const config = loadGatewayConfig();
  const logger = createLogger(serviceName);
  const state: StateTable = {
    client: createStateTableClient(config.appStore, config.region),
    tableName: config.stateTable,
  };
  return { config, logger, state };
}
