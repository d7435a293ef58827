import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { AppResolver } from '../apps/resolver.js';
import { UnknownEndpointError } from '../errors/errors.js';
import type { RateLimiter } from '../limits/rate-limiter.js';
import type { StructuredLogger } from '../observability/logger.js';
import type { CounterMetrics } from '../observability/metrics.js';
import {
  type PusherRequest,
  type PusherRequestContext,
  type PusherRoute,
  pusherRequestMiddleware,
} from './pusher-request-middleware.js';
import { jsonResponse } from './responses.js';

/** What every HTTP API route handler is built with; `context` is what its route works with. */
export interface HttpRouteOptions<Context extends { readonly logger: StructuredLogger }> {
  readonly context: Context;
  readonly resolver: AppResolver;
  /** Shared per-app rates (`MaxBackendEventsPerSecond`, `MaxReadRequestsPerSecond`); null turns them off. */
  readonly rateLimiter: RateLimiter | null;
  readonly metrics?: CounterMetrics;
  /** Defaults to the context's logger. */
  readonly logger?: StructuredLogger;
}

export type HttpApiHandler = middy.MiddyfiedHandler<
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Error,
  PusherRequestContext
>;

export type HttpRouteKind = Exclude<PusherRoute['kind'], 'other'>;

/** The JSON body answering one verified request of a route `Route`. */
export type RouteAnswer<Route extends PusherRoute = PusherRoute> = (
  event: APIGatewayProxyEventV2,
  request: PusherRequest & { readonly route: Route },
) => Promise<object>;

/** The answer of each route kind a handler serves. */
export type RouteAnswers = {
  readonly [Kind in HttpRouteKind]?: RouteAnswer<Extract<PusherRoute, { kind: Kind }>>;
};

/**
 * A Pusher HTTP API handler behind `pusherRequestMiddleware` (which verifies, parses, checks limits and rates,
 * and turns every error into Pusher's plain-text answer), answering the route kinds in `answers` and 404 to
 * any other: API Gateway routes each endpoint to its own Lambda, which holds only that route's code.
 */
export function httpRouteHandler(
  options: HttpRouteOptions<{ readonly logger: StructuredLogger }>,
  answers: RouteAnswers,
): HttpApiHandler {
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, PusherRequestContext>()
    .use(
      pusherRequestMiddleware({
        resolver: options.resolver,
        rateLimiter: options.rateLimiter,
        metrics: options.metrics,
        logger: options.logger ?? options.context.logger,
      }),
    )
    .handler(async (event, lambdaContext) => {
      const request = lambdaContext.pusher;
      // The middleware answers 404 for unknown endpoints ('other') before the handler runs.
      const answer = request.route.kind === 'other' ? undefined : answers[request.route.kind];
      if (answer === undefined) {
        throw new UnknownEndpointError(event.requestContext.http.method, event.rawPath);
      }
      // `answers` pairs each kind with the answer of that kind's route, so the request matches it.
      return jsonResponse(await (answer as RouteAnswer)(event, request));
    });
}
