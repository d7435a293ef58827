import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AppStoreConfig } from '../config/config.js';

export interface AppStoreClientTimeouts {
  /** Time to open a TCP connection. */
  readonly connectionTimeoutMs: number;
  /** Time for one whole request and response. */
  readonly requestTimeoutMs: number;
  /** Tries per call, the first included (the SDK backs off between them). */
  readonly maxAttempts: number;
}

/**
 * DynamoDB answers in milliseconds; a call that takes seconds is an outage. These bounds give up on a
 * hung DynamoDB within a few seconds (two tries of at most a second each, plus the SDK's backoff), well
 * inside API Gateway's 29 s and a Lambda's timeout, so the cache can serve a stale app or the caller a
 * retryable error. The SDK's default has no timeout at all.
 */
export const APP_STORE_CLIENT_TIMEOUTS: AppStoreClientTimeouts = Object.freeze({
  connectionTimeoutMs: 1000,
  requestTimeoutMs: 1000,
  maxAttempts: 2,
});

/** The DynamoDB client the resolver builds for itself: region and endpoint from config, bounded timeouts. */
export function createAppStoreClient(
  config: AppStoreConfig,
  timeouts: AppStoreClientTimeouts = APP_STORE_CLIENT_TIMEOUTS,
): DynamoDBClient {
  return new DynamoDBClient({
    region: config.region,
    ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
    maxAttempts: timeouts.maxAttempts,
    requestHandler: {
      connectionTimeout: timeouts.connectionTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      throwOnRequestTimeout: true,
    },
  });
}
