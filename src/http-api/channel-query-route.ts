import type { GatewayContext } from '../gateway/context.js';
import { decodedPath, signedPath } from '../protocol/signed-path.js';
import { answerChannelQuery, channelQueryOf } from './channel-queries.js';
import { type HttpApiHandler, type HttpRouteOptions, httpRouteHandler, type RouteAnswer } from './route.js';

/** What a read route works with: it never posts, so it needs no `@connections` API. */
export type ChannelQueryContext = Pick<GatewayContext, 'state' | 'logger' | 'now'>;

/** `GET /channels`, `GET /channels/{channel}`, `GET /channels/{channel}/users`. */
export function channelQueryAnswer(context: ChannelQueryContext): RouteAnswer<{ kind: 'read' }> {
  return async (event, { app }) => {
    const query = channelQueryOf(decodedPath(signedPath(event.rawPath, app.id)));
    return answerChannelQuery(context.state, app, query, event.rawQueryString ?? '', context.now());
  };
}

/** The read routes' handler: `GET /apps/{appId}/channels[/{channel}[/users]]`. */
export function channelQueryHandler(options: HttpRouteOptions<ChannelQueryContext>): HttpApiHandler {
  return httpRouteHandler(options, { read: channelQueryAnswer(options.context) });
}
