// Public API for users who write their own Lambdas; docs/api-reference.md lists every export.
export type {
  App,
  LambdaWebhookOptions,
  Webhook,
  WebhookEventType,
  WebhookFilter,
} from './apps/app.js';
export { UNLIMITED } from './apps/app.js';
export type { AppCacheSettings, CachedAppStoreOptions } from './apps/cached-store.js';
export { CachedAppStore } from './apps/cached-store.js';
export type { AppStoreClientTimeouts } from './apps/client.js';
export { APP_STORE_CLIENT_TIMEOUTS, createAppStoreClient } from './apps/client.js';
export type { DynamoDbAppStoreOptions } from './apps/dynamodb-store.js';
export { DynamoDbAppStore } from './apps/dynamodb-store.js';
export { isPossibleAppIdentifier, MAX_APP_IDENTIFIER_LENGTH } from './apps/identifier.js';
export type { AppLookupStats } from './apps/lookup-stats.js';
export type { AppItem } from './apps/parse-item.js';
export { parseAppItem, toAppItem } from './apps/parse-item.js';
export type { AppResolver, AppResolverOptions } from './apps/resolver.js';
export { createAppResolver } from './apps/resolver.js';
export type { AppStore } from './apps/store.js';
export { APP_KEY_INDEX, appsTableDefinition } from './apps/table-schema.js';
export { UncachedAppStore } from './apps/uncached-store.js';
export type {
  HttpAuthorizerContext,
  HttpAuthorizerDecision,
  HttpAuthorizerDeps,
} from './authorizers/http-api.js';
export { authorizeHttpApiRequest } from './authorizers/http-api.js';
export type {
  ConnectAuthorizerContext,
  ConnectDecision,
  ConnectRefusal,
} from './authorizers/websocket-connect.js';
export {
  connectAuthorizerResult,
  decideWebSocketConnect,
  PUSHER_PROTOCOL_VERSION,
  REFUSAL_CODE_OF,
  SUPPORTED_PROTOCOL_VERSIONS,
} from './authorizers/websocket-connect.js';
export type { GoneConnection } from './cleanup/cleanup.js';
export { cleanUpConnections, leaveChannel } from './cleanup/cleanup.js';
export type { AppCacheConfig, AppLimitDefaults, AppStoreConfig, Config } from './config/config.js';
export { DEFAULT_APP_LIMITS, loadConfig } from './config/config.js';
export {
  AppDisabledError,
  AppNotFoundError,
  AuthenticationError,
  AuthorizerContextError,
  BadRequestError,
  ConfigError,
  DuplicateAppKeyError,
  InvalidAppItemError,
  InvalidEncryptionMasterKeyError,
  InvalidQueryStringError,
  InvalidRequestToSignError,
  OutOfTimeError,
  PayloadTooLargeError,
  PusherLambdaError,
  RateLimitedError,
  RequestExceedsRateLimitError,
  RequestRejectedError,
  StoreUnavailableError,
  UnknownEndpointError,
} from './errors/errors.js';
export type { GatewayConfig } from './gateway/config.js';
export { connectionsEndpointOf, loadGatewayConfig } from './gateway/config.js';
export type { GatewayContext } from './gateway/context.js';
export type {
  HttpAuthorizerEvent,
  HttpProxyEventWithAuthorizer,
  WsAuthorizerContext,
  WsConnectAuthorizerEvent,
  WsProxyEvent,
  WsRequestContext,
} from './gateway/events.js';
export type { ConnectionsApi, DeliveryOutcome } from './gateway/management-api.js';
export { closeWithFrame, connectionsApi, FAN_OUT_CONCURRENCY, postToAll } from './gateway/management-api.js';
export {
  decodeMaxConnections,
  encodeMaxConnections,
  UNLIMITED_MAX_CONNECTIONS_IN_CONTEXT,
} from './gateway/max-connections-context.js';
export { connectionIdOf, socketIdOf } from './gateway/socket-id.js';
export type { ChannelQueryContext } from './http-api/channel-query-route.js';
export { channelQueryAnswer, channelQueryHandler } from './http-api/channel-query-route.js';
export type { HttpApiHandler, HttpApiOptions } from './http-api/http-api.js';
export { httpApiHandler } from './http-api/http-api.js';
export { backendEventPoints, parseBatchBody, parseTriggerBody } from './http-api/publish-request.js';
export type { PublishHandlerOptions } from './http-api/publish-route.js';
export { publishAnswer, publishHandler } from './http-api/publish-route.js';
export type {
  PusherRequest,
  PusherRequestContext,
  PusherRequestOptions,
  PusherRoute,
} from './http-api/pusher-request-middleware.js';
export { pusherRequestMiddleware, routeOf } from './http-api/pusher-request-middleware.js';
export { errorResponse, jsonResponse, textResponse } from './http-api/responses.js';
export type { HttpRouteKind, HttpRouteOptions, RouteAnswer, RouteAnswers } from './http-api/route.js';
export { httpRouteHandler } from './http-api/route.js';
export {
  channelQueryHandlerFromEnv,
  httpApiHandlerFromEnv,
  publishHandlerFromEnv,
  publishOptionsFromEnv,
  terminateHandlerFromEnv,
} from './http-api/runtime.js';
export { terminateUserConnections } from './http-api/terminate.js';
export { terminateAnswer, terminateHandler } from './http-api/terminate-route.js';
export type {
  RateLimitDecision,
  RateLimiter,
  RateLimiterOptions,
  RateLimiterStats,
  RateLimiterTuning,
  RateLimitKind,
} from './limits/rate-limiter.js';
export { createRateLimiter, RATE_LIMITER_DEFAULTS } from './limits/rate-limiter.js';
export type { StructuredLogger } from './observability/logger.js';
export { createLogger, lambdaContextLogging } from './observability/logger.js';
export type { CounterMetricsOptions } from './observability/metrics.js';
export { CounterMetrics, METRICS_NAMESPACE } from './observability/metrics.js';
export type { Frame, Member, RefusalCode, SubscriptionErrorType } from './protocol/frames.js';
export {
  ACTIVITY_TIMEOUT_SECONDS,
  encodeFrame,
  pusherError,
  REFUSAL_CODES,
  refusal,
} from './protocol/frames.js';
export type {
  ChannelAuthorization,
  ChannelNameOptions,
  ChannelType,
  PresenceChannelDataResult,
  PresenceMember,
  QueryParams,
  RequestParams,
  SignChannelInput,
  SignRequestInput,
  SignUserInput,
  StringToSignInput,
  UserAuthentication,
  UserData,
  UserDataResult,
  ValidationResult,
  VerifyChannelAuthInput,
  VerifyFailure,
  VerifyFailureReason,
  VerifyRawRequestInput,
  VerifyRequestBodyInput,
  VerifyRequestInput,
  VerifyResult,
  VerifyUserAuthInput,
} from './protocol/index.js';
export {
  ALLOWED_NAME_CHARACTERS,
  AUTH_VERSION,
  channelType,
  EMPTY_BODY_MD5,
  isCacheChannel,
  isValidSocketId,
  isValidUserId,
  MAX_USER_ID_LENGTH,
  parsePresenceChannelData,
  parseQueryString,
  parseUserData,
  SERVER_TO_USER_PREFIX,
  sharedSecretForEncryptedChannel,
  signChannel,
  signRequest,
  signUser,
  signWebhook,
  stringToSign,
  TIMESTAMP_WINDOW_SECONDS,
  validateChannelName,
  validateEventName,
  verifyChannelAuth,
  verifyRawRequest,
  verifyRequest,
  verifyRequestBody,
  verifyUserAuth,
} from './protocol/index.js';
export { signedPath } from './protocol/signed-path.js';
export type { Delivery, FanOutOptions } from './publish/fan-out.js';
export { FAN_OUT_DEFAULTS, fanOut } from './publish/fan-out.js';
export type { FanOutDispatcher, FanOutJob, NotDispatched } from './publish/fan-out-job.js';
export { parseFanOutJob } from './publish/fan-out-job.js';
export type { FailedJobs } from './publish/fan-out-queue.js';
export { failureQueue, queueFanOutDispatcher } from './publish/fan-out-queue.js';
export { fanOutRecords, runFanOutJob } from './publish/fan-out-worker.js';
export type { LaneRange } from './publish/lanes.js';
export { laneRanges } from './publish/lanes.js';
export type {
  ChannelAttributes,
  ChannelInfoAttribute,
  PublishEvent,
  PublishOutcome,
} from './publish/publish.js';
export { publishEvents } from './publish/publish.js';
export type { ChannelCounts, ChannelSnapshot, StoredMember } from './state/channels.js';
export { listChannels, MEMBER_RECOUNT_GRACE_MS, readChannel } from './state/channels.js';
export type { Admission, ConnectionCounterSettings } from './state/connection-counter.js';
export {
  admitConnection,
  CONNECTION_COUNTER_SETTINGS,
  releaseConnection,
} from './state/connection-counter.js';
export type { Subscriber } from './state/subscribers.js';
export { channelCounts, channelSubscribers, presenceMemberIds } from './state/subscribers.js';
export type { StateTable } from './state/table.js';
export { CONNECTION_STATE_TTL_SECONDS, createStateTableClient } from './state/table.js';
export { userConnectionIds } from './state/users.js';
export { CLIENT_EVENT_REJECTED } from './websocket/client-events.js';
export type { GreetingRequest } from './websocket/greeter.js';
