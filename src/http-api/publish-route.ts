import type { GatewayContext } from '../gateway/context.js';
import { NO_WEBHOOKS, type WithWebhooks } from '../gateway/webhook-runtime.js';
import type { FanOutOptions } from '../publish/fan-out.js';
import {
  type ChannelAttributes,
  type PublishEvent,
  type PublishOutcome,
  publishEvents,
} from '../publish/publish.js';
import { type HttpApiHandler, type HttpRouteOptions, httpRouteHandler, type RouteAnswer } from './route.js';

export interface PublishHandlerOptions extends HttpRouteOptions<GatewayContext> {
  /** How large channels are split across the fan-out worker; without a dispatcher, all is posted here. */
  readonly fanOut?: FanOutOptions;
  /** Each request's webhook outbox (connections found gone leave channels); without it, none is raised. */
  readonly withWebhooks?: WithWebhooks;
}

/** `POST /events` and `POST /batch_events`: posts each event to the channel's subscribers. */
export function publishAnswer(
  context: GatewayContext,
  fanOut: FanOutOptions | undefined,
  withWebhooks: WithWebhooks = NO_WEBHOOKS,
): RouteAnswer<{ kind: 'trigger' } | { kind: 'batch' }> {
  return (_event, { app, route, events }) =>
    withWebhooks(context, async (invocation) => {
      const outcome = await publishEvents(invocation, app, events, fanOut);
      if (outcome.gone > 0) {
        context.logger.info('publish found gone connections', { appId: app.id, gone: outcome.gone });
      }
      return route.kind === 'trigger' ? triggerAnswer(events[0]!, outcome) : batchAnswer(events, outcome);
    });
}

/** The publishing routes' handler: `POST /apps/{appId}/events` and `POST /apps/{appId}/batch_events`. */
export function publishHandler(options: PublishHandlerOptions): HttpApiHandler {
  const answer = publishAnswer(options.context, options.fanOut, options.withWebhooks);
  return httpRouteHandler(options, { trigger: answer, batch: answer });
}

/** The trigger answer: `{}`, or `{"channels":{…}}` when `info` was asked for. */
export function triggerAnswer(event: PublishEvent, outcome: PublishOutcome): object {
  return event.info.length === 0 ? {} : { channels: outcome.info[0] ?? {} };
}

/** The batch answer: `{}`, or `{"batch":[…]}` aligned with the events when any asked for `info`. */
export function batchAnswer(events: readonly PublishEvent[], outcome: PublishOutcome): object {
  if (events.every((event) => event.info.length === 0)) return {};
  return { batch: events.map((event, index) => firstChannelOf(event, outcome.info[index])) };
}

function firstChannelOf(
  event: PublishEvent,
  info: Readonly<Record<string, ChannelAttributes>> | undefined,
): ChannelAttributes {
  const channel = event.channels[0];
  return (channel !== undefined && info?.[channel]) || {};
}
