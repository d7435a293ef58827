import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AppLimitDefaults } from '../config/config.js';
import { type AppCacheConfig, type Config, loadConfig } from '../config/config.js';
import { createLogger, DEFAULT_SERVICE_NAME, type StructuredLogger } from '../observability/logger.js';
import type { App } from './app.js';
import { CachedAppStore } from './cached-store.js';
import { createAppStoreClient } from './client.js';
import { DynamoDbAppStore } from './dynamodb-store.js';
import type { AppLookupStats } from './lookup-stats.js';
import { UncachedAppStore } from './uncached-store.js';

export interface AppResolverOptions {
  /** A client of your own (credentials, retries, tracing). Otherwise one is built from `config.appStore`. */
  readonly client?: DynamoDBClient;
  /** Defaults to `APP_MANAGER_DYNAMODB_TABLE` (`apps`). */
  readonly tableName?: string;
  /** Defaults to soketi's `AppKeyIndex`. */
  readonly indexName?: string;
  /** Overrides of the `APP_MANAGER_CACHE_*` settings. */
  readonly cache?: Partial<AppCacheConfig>;
  /** Overrides of the server-level defaults for the seven limit fields. */
  readonly limitDefaults?: AppLimitDefaults;
  /** Parsed configuration; read from `process.env` with `loadConfig()` when omitted. */
  readonly config?: Config;
  /** Structured logger for bad items, duplicated keys and stale serving; a Powertools Logger by default. */
  readonly logger?: StructuredLogger;
  /** Clock in milliseconds, for tests. */
  readonly now?: () => number;
}

export interface AppResolver {
  /** The app with this id, `undefined` if there is none; rejects when the store cannot tell. */
  byId(id: string): Promise<App | undefined>;
  /** The app with this key, `undefined` if there is none; rejects when the store cannot tell. */
  byKey(key: string): Promise<App | undefined>;
  stats(): AppLookupStats;
}

/**
 * Resolves apps by id or key from soketi's DynamoDB table through a warm-container cache. Create it
 * once per container (module scope) so the cache outlives invocations; it holds no per-request state.
 */
export function createAppResolver(options: AppResolverOptions = {}): AppResolver {
  const config = options.config ?? loadConfig();
  const logger = options.logger ?? createLogger(DEFAULT_SERVICE_NAME, 'app-resolver');
  const store = new DynamoDbAppStore({
    client: options.client ?? createAppStoreClient(config.appStore),
    tableName: options.tableName ?? config.appStore.table,
    ...(options.indexName === undefined ? {} : { indexName: options.indexName }),
    limitDefaults: options.limitDefaults ?? config.appLimitDefaults,
    logger,
  });
  const cache = { ...config.appCache, ...options.cache };
  const lookups = cache.enabled
    ? new CachedAppStore(store, {
        ...cache,
        logger,
        ...(options.now === undefined ? {} : { now: options.now }),
      })
    : new UncachedAppStore(store);
  return {
    byId: (id) => lookups.findById(id),
    byKey: (key) => lookups.findByKey(key),
    stats: () => lookups.stats(),
  };
}
