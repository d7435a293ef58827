import type { App } from '../apps/app.js';
import type { GatewayContext } from '../gateway/context.js';
import { cacheMiss, type Frame, subscriptionSucceeded } from '../protocol/frames.js';
import { isCacheChannel } from '../protocol/index.js';
import { claimCacheMissReport, lastEvent } from '../state/channel-cache.js';
import { interestOf } from '../webhooks/interest.js';
import { NO_REPLY, type Outcome, replyWith } from './outcome.js';

/**
 * The answer to a subscribe that succeeded on a channel that is not presence: `subscription_succeeded` as the
 * route response; on a cache channel it is posted instead, then the channel's last event (`cachedEventFor`):
 * a route response leaves only when the Lambda returns, after anything posted.
 */
export async function subscribed(
  context: GatewayContext,
  app: App,
  connectionId: string,
  channel: string,
): Promise<Outcome> {
  if (!isCacheChannel(channel)) return replyWith(subscriptionSucceeded(channel));
  const posted = await postOrGone(context, app, connectionId, channel, subscriptionSucceeded(channel));
  return posted ?? cachedEventFor(context, app, connectionId, channel);
}

/**
 * Posts a cache channel's new subscriber the channel's last event, or `pusher:cache_miss` when it has none
 * (one strongly consistent read, on cache channels only). A miss raises the `cache_miss` webhook for an app
 * that asks for it, once a window while the channel stays empty (`claimCacheMissReport`). The client was
 * already told it is subscribed, so a failure here is logged and the subscription stands. Nothing on other
 * channels.
 */
export async function cachedEventFor(
  context: GatewayContext,
  app: App,
  connectionId: string,
  channel: string,
): Promise<Outcome> {
  if (!isCacheChannel(channel)) return NO_REPLY;
  try {
    return await postCachedEvent(context, app, connectionId, channel);
  } catch (error) {
    context.logger.error('cached event not sent', { channel, connectionId, error: String(error) });
    return NO_REPLY;
  }
}

async function postCachedEvent(
  context: GatewayContext,
  app: App,
  connectionId: string,
  channel: string,
): Promise<Outcome> {
  const cached = await lastEvent(context.state, app.id, channel, context.now());
  if (cached === undefined) {
    const interest = interestOf(app);
    if (
      interest.has('cache_miss') &&
      (await claimCacheMissReport(context.state, app.id, channel, context.now()))
    ) {
      context.webhooks?.raise(app.id, interest, { name: 'cache_miss', channel });
    }
  }
  const frame =
    cached === undefined ? cacheMiss(channel) : { event: cached.event, channel, data: cached.data };
  return (await postOrGone(context, app, connectionId, channel, frame)) ?? NO_REPLY;
}

async function postOrGone(
  context: GatewayContext,
  app: App,
  connectionId: string,
  channel: string,
  frame: Frame,
): Promise<Outcome | undefined> {
  if ((await context.connections.post(connectionId, frame)) !== 'gone') return undefined;
  return { reply: undefined, gone: [{ connectionId, subscription: { appId: app.id, channel } }] };
}
