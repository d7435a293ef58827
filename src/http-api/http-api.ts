import { channelQueryAnswer } from './channel-query-route.js';
import { type PublishHandlerOptions, publishAnswer } from './publish-route.js';
import { type HttpApiHandler, httpRouteHandler } from './route.js';
import { terminateAnswer } from './terminate-route.js';

export type { HttpApiHandler } from './route.js';

export type HttpApiOptions = PublishHandlerOptions;

/**
 * The whole Pusher HTTP API in one handler, for a single Lambda or a server of one's own:
 * `POST /events`, `POST /batch_events`, `GET /channels`, `GET /channels/{channel}`,
 * `GET /channels/{channel}/users`, `POST /users/{userId}/terminate_connections`. The deployed route Lambdas
 * each use their route's handler instead (`publishHandler`, `channelQueryHandler`, `terminateHandler`).
 */
export function httpApiHandler(options: HttpApiOptions): HttpApiHandler {
  const { context } = options;
  const publish = publishAnswer(context, options.fanOut, options.withWebhooks);
  return httpRouteHandler(options, {
    trigger: publish,
    batch: publish,
    read: channelQueryAnswer(context),
    'terminate-user': terminateAnswer(context, options.withWebhooks),
  });
}
