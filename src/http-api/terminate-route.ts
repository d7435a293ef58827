import { BadRequestError } from '../errors/errors.js';
import { quoteForMessage } from '../errors/format.js';
import type { GatewayContext } from '../gateway/context.js';
import { isValidUserId } from '../protocol/index.js';
import { type HttpApiHandler, type HttpRouteOptions, httpRouteHandler, type RouteAnswer } from './route.js';
import { terminateUserConnections } from './terminate.js';

/** `POST /users/{userId}/terminate_connections`: closes every connection signed in as the user. */
export function terminateAnswer(
  context: GatewayContext,
): RouteAnswer<{ kind: 'terminate-user'; userId: string }> {
  return async (_event, { app, route }) => {
    if (!isValidUserId(route.userId)) {
      throw new BadRequestError(`User id ${quoteForMessage(route.userId)} is not valid.`);
    }
    const closed = await terminateUserConnections(context, app.id, route.userId);
    context.logger.info('user connections terminated', { appId: app.id, connections: closed });
    return {};
  };
}

/** The terminate route's handler: `POST /apps/{appId}/users/{userId}/terminate_connections`. */
export function terminateHandler(options: HttpRouteOptions<GatewayContext>): HttpApiHandler {
  return httpRouteHandler(options, { 'terminate-user': terminateAnswer(options.context) });
}
