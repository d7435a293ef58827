import type { GatewayContext } from '../gateway/context.js';
import type { FanOutOptions } from './fan-out.js';
import {
  type HttpApiHandler,
  type HttpRouteOptions,
  httpRouteHandler,
  type RouteAnswer,
} from './http-route.js';
import { batchAnswer, publishEvents, triggerAnswer } from './publish.js';

export interface PublishHandlerOptions extends HttpRouteOptions<GatewayContext> {
  /** How large channels are split across the fan-out worker; without a dispatcher, all is posted here. */
  readonly fanOut?: FanOutOptions;
}

/** `POST /events` and `POST /batch_events`: posts each event to the channel's subscribers. */
export function publishAnswer(
  context: GatewayContext,
  fanOut: FanOutOptions | undefined,
): RouteAnswer<{ kind: 'trigger' } | { kind: 'batch' }> {
  return async (_event, { app, route, events }) => {
    const outcome = await publishEvents(context, app, events, fanOut);
    if (outcome.gone > 0) {
      context.logger.info('publish found gone connections', { appId: app.id, gone: outcome.gone });
    }
    return route.kind === 'trigger' ? triggerAnswer(events[0]!, outcome) : batchAnswer(events, outcome);
  };
}

/** The publishing routes' handler: `POST /apps/{appId}/events` and `POST /apps/{appId}/batch_events`. */
export function publishHandler(options: PublishHandlerOptions): HttpApiHandler {
  const answer = publishAnswer(options.context, options.fanOut);
  return httpRouteHandler(options, { trigger: answer, batch: answer });
}
