import type { Logger } from '@aws-lambda-powertools/logger';
import { type AppResolver, createAppResolver } from '../apps/resolver.js';
import { createRateLimiter } from '../limits/index.js';
import { createLogger } from '../observability/logger.js';
import { createStateTableClient, type StateTable } from '../state/table.js';
import { connectionsEndpointOf, type GatewayConfig, loadGatewayConfig } from './config.js';
import type { GatewayContext } from './context.js';
import type { WsRequestContext } from './events.js';
import { connectionsApi } from './management-api.js';

/**
 * What a WebSocket handler module builds once, at cold start, and shares across invocations (and, on Lambda
 * Managed Instances, across concurrent ones): configuration, logger, app resolver with its cache, state table
 * client. Nothing in it belongs to one request.
 */
export interface GatewayRuntime {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly resolver: AppResolver;
  readonly state: StateTable;
  /** The context of one invocation, posting through the `@connections` API at `endpoint`. */
  contextAt(endpoint: string): GatewayContext;
  /** The `@connections` endpoint of the stage an event came through. */
  endpointOf(requestContext: Pick<WsRequestContext, 'apiId' | 'stage'>): string;
}

export function createGatewayRuntime(serviceName: string): GatewayRuntime {
  const config = loadGatewayConfig();
  const logger = createLogger(serviceName);
  const state: StateTable = {
    client: createStateTableClient(config.base.appStore, config.region),
    tableName: config.stateTable,
  };
  const rateLimiter = createRateLimiter({ client: state.client, tableName: state.tableName, logger });
  return {
    config,
    logger,
    resolver: createAppResolver({ config: config.base, logger }),
    state,
    contextAt: (endpoint) => ({
      state,
      connections: connectionsApi(endpoint, config.region),
      rateLimiter,
      logger,
      now: () => Date.now(),
    }),
    endpointOf: (requestContext) => connectionsEndpointOf(requestContext, config),
  };
}
