import { createAppResolver } from '../apps/resolver.js';
import { ConfigError } from '../errors.js';
import type { GatewayContext } from '../gateway/context.js';
import type { GatewayRuntime } from '../gateway/runtime.js';
import type { StateRuntime } from '../gateway/state-runtime.js';
import { createRateLimiter } from '../limits/index.js';
import { CounterMetrics } from '../observability/metrics.js';

/** What every route Lambda builds once per container: app resolver, shared rates, metrics. */
export function routeOptionsOf(serviceName: string, runtime: StateRuntime) {
  return {
    resolver: createAppResolver({ config: runtime.config.base, logger: runtime.logger }),
    rateLimiter: createRateLimiter({ ...runtime.state, logger: runtime.logger }),
    metrics: new CounterMetrics(serviceName),
  };
}

/**
 * The context of a route that posts, through the WebSocket stage's `@connections` API at
 * `WEBSOCKET_API_ENDPOINT` (an HTTP API event cannot name it).
 */
export function postingContextOf(runtime: GatewayRuntime): GatewayContext {
  const endpoint = runtime.config.connectionsEndpoint;
  if (endpoint === undefined) {
    throw new ConfigError('WEBSOCKET_API_ENDPOINT', 'required by the HTTP API routes that post');
  }
  return runtime.contextAt(endpoint);
}
