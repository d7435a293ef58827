import { setTimeout as sleep } from 'node:timers/promises';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { cleanUpConnections } from '../cleanup/cleanup.js';
import { ConfigError } from '../errors/errors.js';
import { invokeAsynchronously } from '../gateway/async-invoke.js';
import type { GatewayConfig } from '../gateway/config.js';
import type { GatewayContext } from '../gateway/context.js';
import type { DeliveryOutcome } from '../gateway/management-api.js';
import { socketIdOf } from '../gateway/socket-id.js';
import type { StructuredLogger } from '../observability/logger.js';
import {
  connectionEstablished,
  type Frame,
  isRefusalCode,
  type RefusalCode,
  refusal,
} from '../protocol/frames.js';

/**
 * What `$connect` hands the greeter: the connection, the API and stage it came through (the greeter, a
 * posting function, knows its `@connections` endpoint from them or from its configuration), and a refusal.
 */
export interface GreetingRequest {
  readonly connectionId: string;
  readonly apiId: string;
  readonly stage: string;
  /** Set when the connection is to be refused (unknown key, disabled app, over quota, bad protocol). */
  readonly refusal?: RefusalCode;
}

/** Starts the greeter without waiting for it: `$connect` cannot post, the connection opens once it returns. */
export interface GreeterInvoker {
  invoke(request: GreetingRequest): Promise<void>;
}

/** An asynchronous Lambda invocation (`InvocationType: 'Event'`) of the greeter function. */
export function lambdaGreeterInvoker(client: LambdaClient, functionName: string): GreeterInvoker {
  return { invoke: (request) => invokeAsynchronously(client, functionName, request) };
}

/**
 * The greeter `$connect` starts: the configured function (`GREETER_FUNCTION_NAME`, required), through a
 * Lambda client with bounded timeouts. Its endpoint comes from the SDK's sources: `AWS_ENDPOINT_URL_LAMBDA`
 * points it at serverless-offline locally.
 */
export function configuredGreeterInvoker(
  config: Pick<GatewayConfig, 'greeterFunctionName' | 'region'>,
): GreeterInvoker {
  if (config.greeterFunctionName === undefined) {
    throw new ConfigError('GREETER_FUNCTION_NAME', 'required by $connect');
  }
  const client = new LambdaClient({
    region: config.region,
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000, throwOnRequestTimeout: true },
  });
  return lambdaGreeterInvoker(client, config.greeterFunctionName);
}

export function parseGreetingRequest(payload: unknown): GreetingRequest | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const { connectionId, apiId, stage, refusal: code } = payload as Record<string, unknown>;
  if (typeof connectionId !== 'string' || connectionId === '') return undefined;
  if (typeof apiId !== 'string' || typeof stage !== 'string') return undefined;
  if (code === undefined) return { connectionId, apiId, stage };
  return isRefusalCode(code) ? { connectionId, apiId, stage, refusal: code } : undefined;
}

export interface GreeterOptions {
  /**
   * How long a 410 is taken for "not open yet" and retried: the greeter may run before API Gateway has
   * opened the connection that `$connect` accepted. Past it, the client is taken to have left.
   */
  readonly retryForMs: number;
  /** Waits between tries (the context's clock measures `retryForMs`). */
  readonly sleep: (ms: number) => Promise<unknown>;
}

export const GREETER_DEFAULTS: GreeterOptions = Object.freeze({ retryForMs: 2_000, sleep });

const FIRST_RETRY_DELAY_MS = 25;
const MAX_RETRY_DELAY_MS = 250;

export type GreetingOutcome = 'welcomed' | 'refused' | 'gone';

/**
 * Sends the first frame: `pusher:connection_established` with the socket id and activity timeout, or, for a
 * refused connection, `pusher:error` with its 4xxx code followed by closing the connection, so pusher-js
 * stops reconnecting. A connection that stays gone is cleaned up.
 */
export async function greet(
  context: GatewayContext,
  request: GreetingRequest,
  options: GreeterOptions = GREETER_DEFAULTS,
): Promise<GreetingOutcome> {
  const { connectionId } = request;
  const frame =
    request.refusal === undefined
      ? connectionEstablished(socketIdOf(connectionId))
      : refusal(request.refusal);
  const outcome = await postOnceOpen(context, connectionId, frame, options);
  if (outcome === 'gone') {
    if (request.refusal === undefined) await cleanUpConnections(context, [{ connectionId }]);
    return 'gone';
  }
  if (request.refusal === undefined) return 'welcomed';
  await context.connections.disconnect(connectionId);
  return 'refused';
}

async function postOnceOpen(
  context: GatewayContext,
  connectionId: string,
  frame: Frame,
  options: GreeterOptions,
): Promise<DeliveryOutcome> {
  const deadline = context.now() + options.retryForMs;
  let delay = FIRST_RETRY_DELAY_MS;
  for (;;) {
    if ((await context.connections.post(connectionId, frame)) === 'delivered') return 'delivered';
    const left = deadline - context.now();
    if (left <= 0) return 'gone';
    await options.sleep(Math.min(delay, left));
    delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
  }
}

export interface GreetingInvocationDeps {
  readonly logger: StructuredLogger;
  /** The context posting through the `@connections` API of the request's stage. */
  contextFor(request: GreetingRequest): GatewayContext;
}

/**
 * One greeter invocation, from the payload `$connect` sent. It never throws: Lambda would retry a failed
 * asynchronous invocation a minute later, long after pusher-js gave up waiting. An invalid payload or a
 * failure is logged and named in the result.
 */
export async function greetInvocation(
  deps: GreetingInvocationDeps,
  payload: unknown,
): Promise<GreetingOutcome | 'invalid' | 'failed'> {
  const request = parseGreetingRequest(payload);
  if (request === undefined) {
    deps.logger.error('invalid greeting request', { payload: JSON.stringify(payload)?.slice(0, 500) });
    return 'invalid';
  }
  try {
    const outcome = await greet(deps.contextFor(request), request);
    deps.logger.info('greeting', { connectionId: request.connectionId, refusal: request.refusal, outcome });
    return outcome;
  } catch (error) {
    deps.logger.error('greeting failed', { connectionId: request.connectionId, error: String(error) });
    return 'failed';
  }
}
