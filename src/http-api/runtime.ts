import { createAppResolver } from '../apps/resolver.js';
import { loadConfig } from '../config/config.js';
import { createGatewayRuntime } from '../gateway/runtime.js';
import { createStateRuntime, type StateRuntime } from '../gateway/state-runtime.js';
import { webhookInvocations } from '../gateway/webhook-runtime.js';
import { createRateLimiter } from '../limits/rate-limiter.js';
import { CounterMetrics } from '../observability/metrics.js';
import { fanOutOptionsFromEnv } from '../publish/fan-out-config.js';
import { channelQueryHandler } from './channel-query-route.js';
import { httpApiHandler } from './http-api.js';
import { type PublishHandlerOptions, publishHandler } from './publish-route.js';
import type { HttpApiHandler } from './route.js';
import { terminateHandler } from './terminate-route.js';

// The composition of the HTTP API's Lambdas: each builder runs once per container, at cold start. Each route
// Lambda calls only its own builder, so its bundle keeps only the clients that builder creates.

/**
 * The handler of a publishing route Lambda (`POST /events`, `POST /batch_events`), built from the environment
 * serverless.yml gives it (see `publishOptionsFromEnv`).
 */
export function publishHandlerFromEnv(
  serviceName: string,
  env: NodeJS.ProcessEnv = process.env,
): HttpApiHandler {
  return publishHandler(publishOptionsFromEnv(serviceName, env));
}

/**
 * The handler of a read route Lambda (`GET /channels[/{channel}[/users]]`), built from `STATE_TABLE`. It never
 * posts, so it neither needs `WEBSOCKET_API_ENDPOINT` nor bundles the API Gateway Management client.
 */
export function channelQueryHandlerFromEnv(serviceName: string): HttpApiHandler {
  const runtime = createStateRuntime(serviceName);
  return channelQueryHandler({
    ...routeOptionsOf(serviceName, runtime),
    context: { state: runtime.state, logger: runtime.logger, now: () => Date.now() },
  });
}

/**
 * The handler of the terminate route Lambda (`POST /users/{userId}/terminate_connections`), built from
 * `STATE_TABLE` and `WEBSOCKET_API_ENDPOINT`. It never hands work to the fan-out worker.
 */
export function terminateHandlerFromEnv(serviceName: string): HttpApiHandler {
  const runtime = createGatewayRuntime(serviceName);
  return terminateHandler({
    ...routeOptionsOf(serviceName, runtime),
    context: runtime.configuredContext('the HTTP API routes that post'),
    withWebhooks: webhookInvocations(runtime),
  });
}

/**
 * The whole HTTP API in one handler (see `httpApiHandler`), built from the environment `publishOptionsFromEnv`
 * reads. The deployed route Lambdas use their route's builder instead, which bundles only what the route calls.
 */
export function httpApiHandlerFromEnv(
  serviceName: string,
  env: NodeJS.ProcessEnv = process.env,
): HttpApiHandler {
  return httpApiHandler(publishOptionsFromEnv(serviceName, env));
}

/**
 * What a route that publishes is built with: `STATE_TABLE`, `WEBSOCKET_API_ENDPOINT` and the fan-out settings
 * (`fanOutOptionsFromEnv`).
 */
export function publishOptionsFromEnv(serviceName: string, env: NodeJS.ProcessEnv): PublishHandlerOptions {
  const runtime = createGatewayRuntime(serviceName);
  return {
    ...routeOptionsOf(serviceName, runtime),
    context: runtime.configuredContext('the HTTP API routes that post'),
    fanOut: fanOutOptionsFromEnv(env, runtime.config.region),
    withWebhooks: webhookInvocations(runtime),
  };
}

/** What every route Lambda builds: app resolver, shared rates, metrics. */
function routeOptionsOf(serviceName: string, runtime: StateRuntime) {
  return {
    resolver: createAppResolver({ config: loadConfig(), logger: runtime.logger }),
    rateLimiter: createRateLimiter({ ...runtime.state, logger: runtime.logger }),
    metrics: new CounterMetrics(serviceName),
  };
}
