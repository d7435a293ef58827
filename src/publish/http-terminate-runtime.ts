import { createGatewayRuntime } from '../gateway/runtime.js';
import type { HttpApiHandler } from './http-route.js';
import { postingContextOf, routeOptionsOf } from './http-route-runtime.js';
import { terminateHandler } from './http-terminate.js';

/**
 * The handler of the terminate route Lambda (`POST /users/{userId}/terminate_connections`), built once per
 * container from `STATE_TABLE` and `WEBSOCKET_API_ENDPOINT`. It never invokes the fan-out worker.
 */
export function terminateHandlerFromEnv(serviceName: string): HttpApiHandler {
  const runtime = createGatewayRuntime(serviceName);
  return terminateHandler({ ...routeOptionsOf(serviceName, runtime), context: postingContextOf(runtime) });
}
