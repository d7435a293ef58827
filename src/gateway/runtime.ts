import { connectionsEndpointOf } from './config.js';
import type { GatewayContext } from './context.js';
import type { WsRequestContext } from './events.js';
import { connectionsApi } from './management-api.js';
import { createStateRuntime, type StateRuntime } from './state-runtime.js';

/**
 * What every WebSocket handler module builds once, at cold start, and shares across invocations (and, on
 * Lambda Managed Instances, across concurrent ones): configuration, logger, state table client. Nothing in it
 * belongs to one request. The handler that reads apps (`$default`) adds an app resolver.
 */
export interface GatewayRuntime extends StateRuntime {
  /** The context of one invocation, posting through the `@connections` API at `endpoint`. */
  contextAt(endpoint: string): GatewayContext;
  /** The `@connections` endpoint of the stage an event came through. */
  endpointOf(requestContext: Pick<WsRequestContext, 'apiId' | 'stage'>): string;
}

export function createGatewayRuntime(serviceName: string): GatewayRuntime {
  const runtime = createStateRuntime(serviceName);
  const { config, logger, state } = runtime;
  return {
    ...runtime,
    contextAt: (endpoint) => ({
      state,
      connections: connectionsApi(endpoint, config.region),
      logger,
      now: () => Date.now(),
    }),
    endpointOf: (requestContext) => connectionsEndpointOf(requestContext, config),
  };
}
