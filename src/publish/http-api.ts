import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { AppResolver } from '../apps/resolver.js';
import { BadRequestError } from '../errors.js';
import { quoteForMessage } from '../format.js';
import type { GatewayContext } from '../gateway/context.js';
import { type PusherRequestContext, pusherRequestMiddleware } from '../http/pusher-request-middleware.js';
import { jsonResponse } from '../http/responses.js';
import { signedPath } from '../http/signed-path.js';
import type { RateLimiter } from '../limits/index.js';
import type { StructuredLogger } from '../observability/logger.js';
import type { CounterMetrics } from '../observability/metrics.js';
import { isValidUserId } from '../protocol/index.js';
import { answerChannelQuery, channelQueryOf } from './channel-queries.js';
import type { FanOutOptions } from './fan-out.js';
import { batchAnswer, publishEvents, triggerAnswer } from './publish.js';
import { terminateUserConnections } from './terminate.js';

export interface HttpApiOptions {
  /** State table, `@connections` API of the WebSocket stage, logger, clock. */
  readonly context: GatewayContext;
  readonly resolver: AppResolver;
  /** Shared per-app rates (`MaxBackendEventsPerSecond`, `MaxReadRequestsPerSecond`); null turns them off. */
  readonly rateLimiter: RateLimiter | null;
  readonly metrics?: CounterMetrics;
  readonly logger?: StructuredLogger;
  /** How large channels are split across the fan-out worker; without a dispatcher, all is posted here. */
  readonly fanOut?: FanOutOptions;
}

export type HttpApiHandler = middy.MiddyfiedHandler<
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Error,
  PusherRequestContext
>;

/**
 * The Pusher HTTP API, every endpoint in one handler behind `pusherRequestMiddleware` (which verifies,
 * parses, checks limits and rates, and turns every error into Pusher's plain-text answer):
 * `POST /events`, `POST /batch_events`, `GET /channels`, `GET /channels/{channel}`,
 * `GET /channels/{channel}/users`, `POST /users/{userId}/terminate_connections`.
 */
export function httpApiHandler(options: HttpApiOptions): HttpApiHandler {
  const { context } = options;
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, PusherRequestContext>()
    .use(
      pusherRequestMiddleware({
        resolver: options.resolver,
        rateLimiter: options.rateLimiter,
        metrics: options.metrics,
        logger: options.logger ?? context.logger,
      }),
    )
    .handler(async (event, lambdaContext) => {
      const { app, route, events } = lambdaContext.pusher;
      switch (route.kind) {
        case 'trigger':
        case 'batch': {
          const outcome = await publishEvents(context, app, events, options.fanOut);
          if (outcome.gone > 0) {
            context.logger.info('publish found gone connections', { appId: app.id, gone: outcome.gone });
          }
          return jsonResponse(
            route.kind === 'trigger' ? triggerAnswer(events[0]!, outcome) : batchAnswer(events, outcome),
          );
        }
        case 'read': {
          const query = channelQueryOf(decodedPath(signedPath(event.rawPath, app.id)));
          return jsonResponse(
            await answerChannelQuery(context.state, app, query, event.rawQueryString ?? '', context.now()),
          );
        }
        case 'terminate-user': {
          if (!isValidUserId(route.userId)) {
            throw new BadRequestError(`User id ${quoteForMessage(route.userId)} is not valid.`);
          }
          const closed = await terminateUserConnections(context, app.id, route.userId);
          context.logger.info('user connections terminated', { appId: app.id, connections: closed });
          return jsonResponse({});
        }
        case 'other':
          // The middleware answers 404 for these before the handler runs.
          throw new Error(`unexpected route for ${event.rawPath}`);
      }
    });
}

/** The path as the middleware matched it: verified, so any escape in it decodes. */
function decodedPath(path: string): string {
  return path.includes('%') ? decodeURIComponent(path) : path;
}
