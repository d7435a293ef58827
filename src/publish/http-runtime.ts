import { ConfigError } from '../errors.js';
import { createGatewayRuntime } from '../gateway/runtime.js';
import { createRateLimiter } from '../limits/index.js';
import { CounterMetrics } from '../observability/metrics.js';
import { type HttpApiHandler, httpApiHandler } from './http-api.js';

/**
 * The HTTP API handler a route Lambda exports, built once per container from the environment serverless.yml
 * gives it: `STATE_TABLE` (state and rate-limit windows) and `WEBSOCKET_API_ENDPOINT` (the WebSocket
 * stage's `@connections` API, which an HTTP API event cannot name).
 */
export function httpApiHandlerFromEnv(serviceName: string): HttpApiHandler {
  const runtime = createGatewayRuntime(serviceName);
  const endpoint = runtime.config.connectionsEndpoint;
  if (endpoint === undefined) {
    throw new ConfigError('WEBSOCKET_API_ENDPOINT', 'required by the HTTP API routes');
  }
  return httpApiHandler({
    context: runtime.contextAt(endpoint),
    resolver: runtime.resolver,
    rateLimiter: createRateLimiter({
      client: runtime.state.client,
      tableName: runtime.state.tableName,
      logger: runtime.logger,
    }),
    metrics: new CounterMetrics(serviceName),
  });
}
