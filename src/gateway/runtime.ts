import type { Logger } from '@aws-lambda-powertools/logger';
import { createRateLimiter } from '../limits/index.js';
import { createLogger } from '../observability/logger.js';
import { createStateTableClient, type StateTable } from '../state/table.js';
import { connectionsEndpointOf, type GatewayConfig, loadGatewayConfig } from './config.js';
import type { GatewayContext } from './context.js';
import type { WsRequestContext } from './events.js';
import { connectionsApi } from './management-api.js';

/**
 * What every WebSocket handler module builds once, at cold start, and shares across invocations (and, on
 * Lambda Managed Instances, across concurrent ones): configuration, logger, state table client. Nothing in it
 * belongs to one request. The handlers that read apps (`$connect`, `$default`) add an app resolver.
 */
export interface GatewayRuntime {
  readonly config: GatewayConfig;
  readonly logger: Logger;
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
