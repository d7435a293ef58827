import { ConfigError } from '../errors/errors.js';
import type { RateLimiter } from '../limits/rate-limiter.js';
import { connectionsEndpointOf, loadConnectionLimits } from './config.js';
import type { GatewayContext, MessageContext } from './context.js';
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
  /**
   * The context of a function that posts without a WebSocket event to name the stage (the HTTP API routes,
   * the fan-out worker): through `WEBSOCKET_API_ENDPOINT`, which `requiredBy` must be given.
   */
  configuredContext(requiredBy: string): GatewayContext;
}

export function createGatewayRuntime(serviceName: string): GatewayRuntime {
  const runtime = createStateRuntime(serviceName);
  const { config, logger, state } = runtime;
  const contextAt = oncePerEndpoint<GatewayContext>((endpoint) => ({
    state,
    connections: connectionsApi(endpoint, config.region),
    logger,
    now: () => Date.now(),
  }));
  return {
    ...runtime,
    contextAt,
    endpointOf: (requestContext) => connectionsEndpointOf(requestContext, config),
    configuredContext: (requiredBy) => {
      if (config.connectionsEndpoint === undefined) {
        throw new ConfigError('WEBSOCKET_API_ENDPOINT', `required by ${requiredBy}`);
      }
      return contextAt(config.connectionsEndpoint);
    },
  };
}

/** `$default`'s context at each endpoint: the gateway context and the client-event rate limiter. */
export function messageContexts(
  runtime: GatewayRuntime,
  rateLimiter: RateLimiter,
): (endpoint: string) => MessageContext {
  const connectionLimits = loadConnectionLimits();
  return oncePerEndpoint((endpoint) => ({
    ...runtime.contextAt(endpoint),
    rateLimiter,
    connectionLimits,
  }));
}

/**
 * Builds each endpoint's context once per container: a Lambda serves one stage, so invocations share it
 * instead of building it anew (the SDK client behind it is shared either way).
 */
function oncePerEndpoint<Context>(build: (endpoint: string) => Context): (endpoint: string) => Context {
  const built = new Map<string, Context>();
  return (endpoint) => {
    let context = built.get(endpoint);
    if (context === undefined) {
      context = build(endpoint);
      built.set(endpoint, context);
    }
    return context;
  };
}
