import { BadRequestError } from '../errors/errors.js';
import { quoteForMessage } from '../errors/format.js';
import type { GatewayContext } from '../gateway/context.js';
import { NO_WEBHOOKS, type WithWebhooks } from '../gateway/webhook-runtime.js';
import { isValidUserId } from '../protocol/index.js';
import { type HttpApiHandler, type HttpRouteOptions, httpRouteHandler, type RouteAnswer } from './route.js';
import { terminateUserConnections } from './terminate.js';

/** `POST /users/{userId}/terminate_connections`: closes every connection signed in as the user. */
export function terminateAnswer(
  context: GatewayContext,
  withWebhooks: WithWebhooks = NO_WEBHOOKS,
): RouteAnswer<{ kind: 'terminate-user'; userId: string }> {
  return async (_event, { app, route }) => {
    if (!isValidUserId(route.userId)) {
      throw new BadRequestError(`User id ${quoteForMessage(route.userId)} is not valid.`);
    }
    const closed = await withWebhooks(context, (invocation) =>
      terminateUserConnections(invocation, app.id, route.userId),
    );
    context.logger.info('user connections terminated', { appId: app.id, connections: closed });
    return {};
  };
}

export interface TerminateHandlerOptions extends HttpRouteOptions<GatewayContext> {
  /** Each request's webhook outbox (the user's connections leave their channels); without it, none. */
  readonly withWebhooks?: WithWebhooks;
}

/** The terminate route's handler: `POST /apps/{appId}/users/{userId}/terminate_connections`. */
export function terminateHandler(options: TerminateHandlerOptions): HttpApiHandler {
  return httpRouteHandler(options, {
    'terminate-user': terminateAnswer(options.context, options.withWebhooks),
  });
}
