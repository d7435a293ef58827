import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { App } from '../apps/app.js';
import type { AppResolver } from '../apps/index.js';
import {
  AppDisabledError,
  AppNotFoundError,
  AuthenticationError,
  BadRequestError,
  RateLimitedError,
  RequestExceedsRateLimitError,
  RequestRejectedError,
  UnknownEndpointError,
} from '../errors/errors.js';
import type { RateLimitDecision, RateLimiter, RateLimitKind } from '../limits/rate-limiter.js';
import { everyInterval } from '../observability/interval.js';
import type { StructuredLogger } from '../observability/logger.js';
import type { CounterMetrics } from '../observability/metrics.js';
import { type VerifyFailure, verifyRawRequest } from '../protocol/index.js';
import { decodedPath, signedPath } from '../protocol/signed-path.js';
import type { PublishEvent } from '../publish/publish.js';
import { backendEventPoints, parseBatchBody, parseTriggerBody } from './publish-request.js';
import { errorResponse } from './responses.js';

/** Which Pusher HTTP API endpoint a request is for, from its signed path. */
export type PusherRoute =
  | { readonly kind: 'trigger' }
  | { readonly kind: 'batch' }
  | { readonly kind: 'read' }
  | { readonly kind: 'terminate-user'; readonly userId: string }
  | { readonly kind: 'other' };

/** What the middleware established, for the route handler at `context.pusher`. */
export interface PusherRequest {
  readonly app: App;
  readonly route: PusherRoute;
  /** The parsed JSON body (undefined for an empty body, and for unknown routes). */
  readonly body: unknown;
  /** Events of a trigger or batch, checked against the app's limits. */
  readonly events: readonly PublishEvent[];
  readonly rateLimit: RateLimitDecision | undefined;
}

export type PusherRequestContext = Context & { pusher: PusherRequest };

export interface PusherRequestOptions {
  readonly resolver: AppResolver;
  /** Shared per-app rate limiter; `null` turns rate limits off explicitly. */
  readonly rateLimiter: RateLimiter | null;
  readonly logger?: StructuredLogger;
  /** Clock in milliseconds, for tests. */
  readonly now?: () => number;
  /**
   * Let requests for endpoints other than the Pusher HTTP API's through (verified, app enabled, but with no
   * body parsing, per-request limits or rates, which the handler then owns). Off by default: 404.
   */
  readonly allowUnknownRoutes?: boolean;
  /**
   * Publishes request, rate-limiter and cache counters once per interval as an EMF line; without it they are
   * logged at INFO (when a logger is given).
   */
  readonly metrics?: CounterMetrics;
  readonly statsIntervalMs?: number;
}

const ROUTE_PATTERN =
  /^\/apps\/[^/]+\/(events|batch_events|channels(?:\/.*)?|users\/([^/]+)\/terminate_connections)$/;

export function routeOf(method: string, path: string): PusherRoute {
  const match = ROUTE_PATTERN.exec(path);
  if (!match) return { kind: 'other' };
  const [, endpoint, userId] = match;
  if (method === 'POST' && endpoint === 'events') return { kind: 'trigger' };
  if (method === 'POST' && endpoint === 'batch_events') return { kind: 'batch' };
  if (method === 'GET' && endpoint?.startsWith('channels')) return { kind: 'read' };
  if (method === 'POST' && userId !== undefined) return { kind: 'terminate-user', userId };
  return { kind: 'other' };
}

/**
 * middy middleware for Pusher HTTP API routes behind an HTTP API (payload 2.0). Before the handler runs
 * it resolves the app from `/apps/{appId}`, verifies the whole request (signature, timestamp window,
 * `auth_key`, `md5(body) == body_md5`), requires the app enabled, parses the JSON body, checks the
 * per-request limits and the app's shared rates. It verifies even behind the HTTP authorizer: a few
 * microseconds buy independence from how the API was configured. Every error, the handler's included,
 * becomes a Pusher-style answer here.
 */
export function pusherRequestMiddleware(
  options: PusherRequestOptions,
): MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, PusherRequestContext> {
  if (typeof options?.resolver?.byId !== 'function') {
    throw new TypeError('pusherRequestMiddleware: options.resolver must be an app resolver');
  }
  if (options.rateLimiter === undefined) {
    throw new TypeError(
      'pusherRequestMiddleware: options.rateLimiter is required (null turns rate limits off)',
    );
  }
  const { resolver, rateLimiter, logger, now, allowUnknownRoutes = false, metrics } = options;
  const requests = { admitted: 0, refused: 0, failed: 0 };
  const statsDue = everyInterval(options.statsIntervalMs ?? 60_000);
  const reportIfDue = () => {
    const at = statsDue();
    if (at === undefined) return;
    const summary = { requests: { ...requests }, cache: resolver.stats(), limiter: rateLimiter?.stats() };
    if (!metrics) {
      logger?.info('pusher request stats', summary);
      return;
    }
    const { cache, limiter } = summary;
    metrics.publish(
      {
        PusherRequestsAdmitted: requests.admitted,
        PusherRequestsRefused: requests.refused,
        PusherRequestsFailed: requests.failed,
        AppCacheHits: cache.hits,
        AppCacheMisses: cache.misses,
        AppStoreErrors: cache.errors,
        RateLimitAllowed: limiter?.allowed ?? 0,
        RateLimitRefused: limiter?.refused ?? 0,
        RateLimitLeases: limiter?.leases ?? 0,
        RateLimitFallbacks: limiter?.fallbacks ?? 0,
        StateTableWrites: limiter?.dynamodbWrites ?? 0,
        StateTableErrors: limiter?.dynamodbErrors ?? 0,
      },
      { message: 'pusher request stats', ...summary },
      at,
    );
  };

  return {
    name: 'pusherRequest',
    before: async (request) => {
      const event = request.event;
      const method = event.requestContext.http.method.toUpperCase();
      const appId = event.pathParameters?.appId;
      if (!appId) throw new AppNotFoundError('The app');
      const path = signedPath(event.rawPath, appId);
      const app = await resolver.byId(appId);
      if (!app) throw new AppNotFoundError(`The app ${appId}`);

      const rawBody = bodyBytes(event);
      const verdict = verifyRawRequest({
        method,
        path,
        rawQueryString: event.rawQueryString ?? '',
        body: rawBody,
        app,
        now: now?.(),
      });
      if (!verdict.ok) throw rejection(verdict);
      if (!app.enabled) throw new AppDisabledError(app.id);

      const routePath = decodedPath(path);
      const route = routeOf(method, routePath);
      if (route.kind === 'other' && !allowUnknownRoutes) throw new UnknownEndpointError(method, routePath);
      const body = route.kind === 'other' ? undefined : parseJson(rawBody);
      const events = eventsOf(route, body, app);
      const rateLimit = await consumeRate(route, events, app);
      request.context.pusher = { app, route, body, events, rateLimit };
      requests.admitted++;
      reportIfDue();
    },
    onError: (request) => {
      const error = request.error;
      const response = errorResponse(error);
      const log = response.statusCode && response.statusCode >= 500 ? logger?.error : logger?.info;
      log?.call(logger, 'pusher request refused', {
        status: response.statusCode,
        appId: request.event.pathParameters?.appId,
        errorName: error?.name,
        reason: error instanceof RequestRejectedError ? (error.code ?? error.message) : error?.message,
      });
      request.response = response;
      if ((response.statusCode ?? 500) >= 500) requests.failed++;
      else requests.refused++;
      reportIfDue();
    },
  };

  async function consumeRate(
    route: PusherRoute,
    events: readonly PublishEvent[],
    app: App,
  ): Promise<RateLimitDecision | undefined> {
    if (!rateLimiter) return undefined;
    let kind: RateLimitKind;
    let points: number;
    let limit: number;
    if (route.kind === 'trigger' || route.kind === 'batch') {
      [kind, points, limit] = ['backend-events', backendEventPoints(events), app.maxBackendEventsPerSecond];
    } else if (route.kind === 'read') {
      [kind, points, limit] = ['read-requests', 1, app.maxReadRequestsPerSecond];
    } else {
      return undefined;
    }
    const decision = await rateLimiter.consume(app.id, kind, points, limit);
    if (!decision.allowed) {
      const setting = kind === 'backend-events' ? 'MaxBackendEventsPerSecond' : 'MaxReadRequestsPerSecond';
      if (!decision.fitsAnyWindow) throw new RequestExceedsRateLimitError(points, decision.limit, setting);
      throw new RateLimitedError(
        `Too many requests: ${setting} is ${limit} for this app; this request needs ${points}.`,
        Math.max(1, Math.ceil(decision.resetSeconds)),
      );
    }
    return decision;
  }
}

function eventsOf(route: PusherRoute, body: unknown, app: App): readonly PublishEvent[] {
  if (route.kind === 'trigger') return [parseTriggerBody(body, app)];
  if (route.kind === 'batch') return parseBatchBody(body, app);
  return [];
}

function bodyBytes(event: APIGatewayProxyEventV2): Buffer {
  if (!event.body) return Buffer.alloc(0);
  return Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new BadRequestError('The body is not valid JSON.');
  }
}

function rejection({ status, message, reason }: VerifyFailure): RequestRejectedError {
  return status === 401 ? new AuthenticationError(message, reason) : new BadRequestError(message, reason);
}
