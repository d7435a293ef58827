// Public API for users who write their own Lambdas. Everything exported here is documented in the README.
export type { App, AppLimitDefaults, Webhook, WebhookEventType, WebhookFilter } from './apps/app.js';
export { DEFAULT_APP_LIMITS, UNLIMITED } from './apps/app.js';
export { APP_KEY_INDEX, appsTableDefinition } from './apps/table-schema.js';
export type { AppCacheConfig, AppStoreConfig, Config } from './config/config.js';
export { loadConfig } from './config/config.js';
export {
  ConfigError,
  DuplicateAppKeyError,
  InvalidAppItemError,
  PusherLambdaError,
  StoreUnavailableError,
} from './errors.js';
