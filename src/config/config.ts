import { ConfigError } from '../errors/errors.js';
import { type Env, readBoolean, readNumber, readString, readUrl, readVariable } from './env.js';

/** Server-level defaults for the seven per-app limit fields, applied when the item lacks them. */
export interface AppLimitDefaults {
  readonly maxPresenceMembersPerChannel: number;
  readonly maxPresenceMemberSizeInKb: number;
  readonly maxChannelNameLength: number;
  readonly maxEventChannelsAtOnce: number;
  readonly maxEventNameLength: number;
  readonly maxEventPayloadInKb: number;
  readonly maxEventBatchSize: number;
}

/** soketi's server defaults (the code's, where its docs disagree). */
export const DEFAULT_APP_LIMITS: AppLimitDefaults = Object.freeze({
  maxPresenceMembersPerChannel: 100,
  maxPresenceMemberSizeInKb: 2,
  maxChannelNameLength: 200,
  maxEventChannelsAtOnce: 100,
  maxEventNameLength: 200,
  maxEventPayloadInKb: 100,
  maxEventBatchSize: 10,
});

export interface AppStoreConfig {
  readonly table: string;
  readonly region: string;
  /** Custom endpoint for local DynamoDB (dynalite); undefined means AWS. */
  readonly endpoint: string | undefined;
}

export interface AppCacheConfig {
  readonly enabled: boolean;
  readonly ttlSeconds: number;
  /** How long an unknown id or key is remembered. */
  readonly negativeTtlSeconds: number;
  /** How long past its TTL a cached app may still be served while DynamoDB fails. */
  readonly staleIfErrorSeconds: number;
  readonly maxEntries: number;
}

export interface Config {
  readonly appStore: AppStoreConfig;
  /** DynamoDB table for state shared across containers (rate-limit windows); from `STATE_TABLE`. */
  readonly stateTable: string | undefined;
  readonly appCache: AppCacheConfig;
  readonly appLimitDefaults: AppLimitDefaults;
}

/**
 * Parses the environment once (at cold start) into a typed, frozen object. A bad variable throws a
 * `ConfigError` that names it. Every name is also read with a `SOKETI_` prefix.
 */
export function loadConfig(env: Env = process.env): Config {
  const limit = (name: string, fallback: number, integer = true) =>
    readNumber(env, name, fallback, { integer, min: 0, negativeIsUnlimited: true });
  return Object.freeze({
    appStore: loadAppStoreConfig(env),
    stateTable: readVariable(env, 'STATE_TABLE')?.value,
    appCache: Object.freeze({
      enabled: readBoolean(env, 'APP_MANAGER_CACHE_ENABLED', true),
      ttlSeconds: readCacheTtl(env),
      negativeTtlSeconds: readNumber(env, 'APP_MANAGER_CACHE_NEGATIVE_TTL', 5, { min: 0 }),
      staleIfErrorSeconds: readNumber(env, 'APP_MANAGER_CACHE_STALE_IF_ERROR', 300, { min: 0 }),
      maxEntries: readNumber(env, 'APP_MANAGER_CACHE_MAX_ENTRIES', 10_000, { integer: true, min: 1 }),
    }),
    appLimitDefaults: Object.freeze({
      maxPresenceMembersPerChannel: limit(
        'PRESENCE_MAX_MEMBERS',
        DEFAULT_APP_LIMITS.maxPresenceMembersPerChannel,
      ),
      maxPresenceMemberSizeInKb: limit(
        'PRESENCE_MAX_MEMBER_SIZE',
        DEFAULT_APP_LIMITS.maxPresenceMemberSizeInKb,
        false,
      ),
      maxChannelNameLength: limit('CHANNEL_LIMITS_MAX_NAME_LENGTH', DEFAULT_APP_LIMITS.maxChannelNameLength),
      maxEventChannelsAtOnce: limit('EVENT_MAX_CHANNELS_AT_ONCE', DEFAULT_APP_LIMITS.maxEventChannelsAtOnce),
      maxEventNameLength: limit('EVENT_MAX_NAME_LENGTH', DEFAULT_APP_LIMITS.maxEventNameLength),
      maxEventPayloadInKb: limit('EVENT_MAX_SIZE_IN_KB', DEFAULT_APP_LIMITS.maxEventPayloadInKb, false),
      maxEventBatchSize: limit('EVENT_MAX_BATCH_SIZE', DEFAULT_APP_LIMITS.maxEventBatchSize),
    }),
  });
}

/**
 * `APP_MANAGER_DYNAMODB_TABLE`, `_REGION` and `_ENDPOINT`: where the apps table is, and the DynamoDB endpoint
 * the state table shares. What a Lambda that never looks an app up reads of the apps settings.
 */
export function loadAppStoreConfig(env: Env = process.env): AppStoreConfig {
  return Object.freeze({
    table: readString(env, 'APP_MANAGER_DYNAMODB_TABLE', 'apps'),
    region: readString(env, 'APP_MANAGER_DYNAMODB_REGION', env.AWS_REGION?.trim() || 'us-east-1'),
    endpoint: readUrl(env, 'APP_MANAGER_DYNAMODB_ENDPOINT'),
  });
}

/**
 * soketi reads a TTL of -1 as "never expire", so a disabled app, a rotated secret or a new limit would never
 * reach a warm container; say so rather than only that -1 is below 0.
 */
function readCacheTtl(env: Env): number {
  const found = readVariable(env, 'APP_MANAGER_CACHE_TTL');
  if (found && Number(found.value) < 0) {
    throw new ConfigError(
      found.name,
      `"${found.value}" (soketi's "never expire") is not supported: cached apps would never see a change; set a number of seconds, e.g. 3600`,
    );
  }
  return readNumber(env, 'APP_MANAGER_CACHE_TTL', 60, { min: 0 });
}
