import { createStateRuntime } from '../gateway/state-runtime.js';
import { channelQueryHandler } from './http-channel-query.js';
import type { HttpApiHandler } from './http-route.js';
import { routeOptionsOf } from './http-route-runtime.js';

/**
 * The handler of a read route Lambda (`GET /channels[/{channel}[/users]]`), built once per container from
 * `STATE_TABLE`. It never posts, so it neither needs `WEBSOCKET_API_ENDPOINT` nor bundles the API Gateway
 * Management client.
 */
export function channelQueryHandlerFromEnv(serviceName: string): HttpApiHandler {
  const runtime = createStateRuntime(serviceName);
  return channelQueryHandler({
    ...routeOptionsOf(serviceName, runtime),
    context: { state: runtime.state, logger: runtime.logger, now: () => Date.now() },
  });
}
