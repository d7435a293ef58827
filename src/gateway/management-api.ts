import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import type { StructuredLogger } from '../observability/logger.js';
import { type EncodedFrame, encodedFrame, encodeFrame, type Frame } from '../protocol/frames.js';
import { forEachLimited } from './concurrency.js';

/** `gone`: API Gateway answered 410, the connection no longer exists (or does not exist yet). */
export type DeliveryOutcome = 'delivered' | 'gone';

/** The `@connections` API of one WebSocket API stage. */
export interface ConnectionsApi {
  post(connectionId: string, frame: Frame | EncodedFrame): Promise<DeliveryOutcome>;
  /** Closes the connection (API Gateway then runs `$disconnect`). */
  disconnect(connectionId: string): Promise<DeliveryOutcome>;
  /** Asks whether the connection is open (`GetConnection`): `gone` once the client has left. */
  probe(connectionId: string): Promise<DeliveryOutcome>;
}

/**
 * A posted message takes tens of milliseconds; one that takes seconds means a failing API. These bounds give
 * up within about 5 s (two tries), inside the Lambda timeout, so one slow connection cannot hold a fan-out.
 */
const TIMEOUTS = { connectionTimeout: 1_000, requestTimeout: 2_000, maxAttempts: 2 } as const;

/**
 * Posts in flight per invocation: at ~15 ms a post, 50 keep ~3,300 posts a second in the air, more than the
 * SDK's ~0.6 ms of CPU per post lets one vCPU send, and well under the account's 10,000 requests a second.
 */
export const FAN_OUT_CONCURRENCY = 50;

// One SDK client per endpoint for the container's life: clients hold connection pools, not request state.
const clients = new Map<string, ApiGatewayManagementApiClient>();

function clientFor(endpoint: string, region: string): ApiGatewayManagementApiClient {
  const cacheKey = `${region} ${endpoint}`;
  let client = clients.get(cacheKey);
  if (client === undefined) {
    client = new ApiGatewayManagementApiClient({
      endpoint,
      region,
      maxAttempts: TIMEOUTS.maxAttempts,
      requestHandler: {
        connectionTimeout: TIMEOUTS.connectionTimeout,
        requestTimeout: TIMEOUTS.requestTimeout,
        throwOnRequestTimeout: true,
        // A kept-alive socket for every post in flight: a fan-out never waits for a socket or a handshake.
        httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: FAN_OUT_CONCURRENCY }),
        httpAgent: new HttpAgent({ keepAlive: true, maxSockets: FAN_OUT_CONCURRENCY }),
      },
    });
    clients.set(cacheKey, client);
  }
  return client;
}

/** The `@connections` API at `endpoint` (`https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`). */
export function connectionsApi(endpoint: string, region: string): ConnectionsApi {
  const client = clientFor(endpoint, region);
  return {
    post: (connectionId, frame) =>
      outcomeOf(
        client.send(
          new PostToConnectionCommand({
            ConnectionId: connectionId,
            Data: 'bytes' in frame ? frame.bytes : Buffer.from(encodeFrame(frame)),
          }),
        ),
      ),
    disconnect: (connectionId) =>
      outcomeOf(client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }))),
    probe: (connectionId) => outcomeOf(client.send(new GetConnectionCommand({ ConnectionId: connectionId }))),
  };
}

async function outcomeOf(call: Promise<unknown>): Promise<DeliveryOutcome> {
  try {
    await call;
    return 'delivered';
  } catch (error) {
    if (isGone(error)) return 'gone';
    throw error;
  }
}

function isGone(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return error.name === 'GoneException' || status === 410;
}

/** Posts that failed for good, by cause (410 Gone is not a failure: those connections are returned). */
export interface PostFailures {
  /** 429 `LimitExceededException` (throttled, or the client's buffer full), after the retries. */
  throttled: number;
  /** 413 `PayloadTooLargeException`. */
  tooLarge: number;
  other: number;
}

/** What `postToAll` did. */
export interface PostOutcome {
  readonly gone: readonly string[];
  readonly failures: PostFailures;
}

/** Retries of a throttled post: backoff of 50, 100, 200 ms with full jitter, while time allows. */
const THROTTLE_RETRIES = 3;
const THROTTLE_BACKOFF_MS = 50;

/**
 * Posts one frame, encoded once, to many connections, `FAN_OUT_CONCURRENCY` at a time. Never throws:
 * connections that are gone are returned for cleanup; a throttled post is retried with backoff and jitter
 * (while `stopAtMs` allows); other failures are counted by cause and logged, so one dead or slow connection
 * never fails the others.
 */
export async function postToAll(
  api: ConnectionsApi,
  connectionIds: readonly string[],
  frame: Frame | EncodedFrame,
  logger: StructuredLogger,
  options: { readonly stopAtMs?: number } = {},
): Promise<PostOutcome> {
  const encoded = 'bytes' in frame ? frame : encodedFrame(frame);
  const stopAtMs = options.stopAtMs ?? Number.POSITIVE_INFINITY;
  const gone: string[] = [];
  const failures: PostFailures = { throttled: 0, tooLarge: 0, other: 0 };
  await forEachLimited(connectionIds, FAN_OUT_CONCURRENCY, async (connectionId) => {
    for (let attempt = 0; ; attempt++) {
      try {
        if ((await api.post(connectionId, encoded)) === 'gone') gone.push(connectionId);
        return;
      } catch (error) {
        const cause = causeOf(error);
        const backoffMs = Math.random() * THROTTLE_BACKOFF_MS * 2 ** attempt;
        if (cause === 'throttled' && attempt < THROTTLE_RETRIES && Date.now() + backoffMs < stopAtMs) {
          await sleep(backoffMs);
          continue;
        }
        failures[cause]++;
        logger.warn('post to connection failed', {
          connectionId,
          event: encoded.event,
          cause,
          error: String(error),
        });
        return;
      }
    }
  });
  return { gone, failures };
}

function causeOf(error: unknown): keyof PostFailures {
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
    ?.httpStatusCode;
  const name = error instanceof Error ? error.name : '';
  if (name === 'LimitExceededException' || status === 429) return 'throttled';
  if (name === 'PayloadTooLargeException' || status === 413) return 'tooLarge';
  return 'other';
}

/**
 * Sends a last frame (a `pusher:error` refusal) and closes the connection: API Gateway cannot send close
 * codes, so the frame is how pusher-js learns why, and a 4000–4099 code makes it stop reconnecting.
 */
export async function closeWithFrame(api: ConnectionsApi, connectionId: string, frame: Frame): Promise<void> {
  if ((await api.post(connectionId, frame)) === 'gone') return;
  await api.disconnect(connectionId);
}
