import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import type { StructuredLogger } from '../observability/logger.js';
import { encodeFrame, type Frame } from '../protocol/frames.js';
import { forEachLimited } from './concurrency.js';

/** `gone`: API Gateway answered 410, the connection no longer exists (or does not exist yet). */
export type DeliveryOutcome = 'delivered' | 'gone';

/** The `@connections` API of one WebSocket API stage. */
export interface ConnectionsApi {
  post(connectionId: string, frame: Frame): Promise<DeliveryOutcome>;
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

/** Recipients posted to at once: well under the account's 10,000 requests per second, enough for latency. */
export const FAN_OUT_CONCURRENCY = 25;

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
          new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(encodeFrame(frame)) }),
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

/**
 * Posts one frame to many connections, `FAN_OUT_CONCURRENCY` at a time. Never throws: connections that are
 * gone are returned for cleanup, other failures are logged and skipped, so one dead or slow connection
 * never fails the others.
 */
export async function postToAll(
  api: ConnectionsApi,
  connectionIds: readonly string[],
  frame: Frame,
  logger: StructuredLogger,
): Promise<{ readonly gone: readonly string[] }> {
  const gone: string[] = [];
  await forEachLimited(connectionIds, FAN_OUT_CONCURRENCY, async (connectionId) => {
    try {
      if ((await api.post(connectionId, frame)) === 'gone') gone.push(connectionId);
    } catch (error) {
      logger.warn('post to connection failed', { connectionId, event: frame.event, error: String(error) });
    }
  });
  return { gone };
}

/**
 * Sends a last frame (a `pusher:error` refusal) and closes the connection: API Gateway cannot send close
 * codes, so the frame is how pusher-js learns why, and a 4000–4099 code makes it stop reconnecting.
 */
export async function closeWithFrame(api: ConnectionsApi, connectionId: string, frame: Frame): Promise<void> {
  if ((await api.post(connectionId, frame)) === 'gone') return;
  await api.disconnect(connectionId);
}
