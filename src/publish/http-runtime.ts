import { type HttpApiHandler, httpApiHandler } from './http-api.js';
import { publishOptionsFromEnv } from './http-publish-runtime.js';

/**
 * The whole HTTP API in one handler (see `httpApiHandler`), built once per container from the environment
 * `publishOptionsFromEnv` reads. The deployed route Lambdas use their route's builder instead, which bundles
 * only what the route calls.
 */
export function httpApiHandlerFromEnv(
  serviceName: string,
  env: NodeJS.ProcessEnv = process.env,
): HttpApiHandler {
  return httpApiHandler(publishOptionsFromEnv(serviceName, env));
}
