import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { isHttpUrl } from '../apps/parse-item.js';
import type { AppStoreConfig } from '../config/config.js';
import { UsageError } from '../errors/errors.js';

/** The table a command works on, and how to reach it. */
export interface TableTarget {
  readonly table: string;
  readonly region: string;
  /** Custom endpoint (dynalite, DynamoDB Local); undefined means AWS. */
  readonly endpoint: string | undefined;
  /** Named profile from ~/.aws; undefined means the SDK's default chain. */
  readonly profile: string | undefined;
}

export interface TargetOverrides {
  readonly table?: string;
  readonly region?: string;
  readonly endpoint?: string;
  readonly profile?: string;
}

/** The configured table (`APP_MANAGER_DYNAMODB_*`) with the command line's overrides applied. */
export function resolveTarget(config: AppStoreConfig, overrides: TargetOverrides): TableTarget {
  if (overrides.endpoint !== undefined && !isHttpUrl(overrides.endpoint)) {
    throw new UsageError(`--endpoint: expected an http(s) URL, got "${overrides.endpoint}"`);
  }
  return {
    table: overrides.table ?? config.table,
    region: overrides.region ?? config.region,
    endpoint: overrides.endpoint ?? config.endpoint,
    profile: overrides.profile,
  };
}

/** `table "apps" in eu-west-1 at http://127.0.0.1:8000`, for messages. */
export function describeTarget(target: TableTarget): string {
  const where = target.endpoint === undefined ? 'on AWS' : `at ${target.endpoint}`;
  return `table "${target.table}" in ${target.region} ${where}`;
}

/**
 * A client for one CLI run. A person waits on it, so the bounds are looser than the Lambdas' (a Scan page
 * over a slow link takes a while), but a hung endpoint still fails in seconds, not minutes.
 */
export function createCliClient(target: TableTarget): DynamoDBClient {
  return new DynamoDBClient({
    region: target.region,
    ...(target.endpoint === undefined ? {} : { endpoint: target.endpoint }),
    ...(target.profile === undefined ? {} : { profile: target.profile }),
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 3_000, requestTimeout: 15_000, throwOnRequestTimeout: true },
  });
}
