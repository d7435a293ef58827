import type { App } from '../apps/app.js';
import { BadRequestError, UnknownEndpointError } from '../errors/errors.js';
import { quoteForMessage } from '../errors/format.js';
import {
  channelType,
  isCacheChannel,
  parseQueryString,
  SERVER_TO_USER_PREFIX,
  validateChannelName,
} from '../protocol/index.js';
import type { ChannelAttributes } from '../publish/publish.js';
import { lastEvent } from '../state/channel-cache.js';
import { listChannels } from '../state/channels.js';
import { channelNameLimitOf, MAX_STORABLE_CHANNEL_NAME_LENGTH } from '../state/keys.js';
import { channelCounts, presenceMemberIds } from '../state/subscribers.js';
import type { StateTable } from '../state/table.js';

// The Pusher HTTP API's GET endpoints, answered from the app's channel index and the channel partitions.

/** Which GET endpoint a signed, decoded path `/apps/{appId}/channels…` names. */
export type ChannelQuery =
  | { readonly kind: 'channels' }
  | { readonly kind: 'channel'; readonly channel: string }
  | { readonly kind: 'users'; readonly channel: string };

const QUERY_PATH = /^\/apps\/[^/]+\/channels(?:\/([^/]+)(\/users)?)?$/;

export function channelQueryOf(path: string): ChannelQuery {
  const match = QUERY_PATH.exec(path);
  if (!match) throw new UnknownEndpointError('GET', path);
  const [, channel, users] = match;
  if (channel === undefined) return { kind: 'channels' };
  return users === undefined ? { kind: 'channel', channel } : { kind: 'users', channel };
}

/** The answer to a GET endpoint, given the request's raw query string. */
export async function answerChannelQuery(
  state: StateTable,
  app: App,
  query: ChannelQuery,
  rawQueryString: string,
  nowMs: number,
): Promise<object> {
  const params = parseQueryString(rawQueryString);
  if (query.kind === 'channels') {
    const prefix = singleParam(params, 'filter_by_prefix') ?? '';
    if (prefix.length > MAX_STORABLE_CHANNEL_NAME_LENGTH) {
      throw new BadRequestError(
        `filter_by_prefix is ${prefix.length} characters, longer than any channel name (${MAX_STORABLE_CHANNEL_NAME_LENGTH}).`,
      );
    }
    return listAnswer(state, app.id, prefix, infoParam(params, ['user_count', 'subscription_count']), nowMs);
  }
  checkChannelName(app, query.channel);
  if (query.kind === 'users') {
    if (channelType(query.channel) !== 'presence') {
      throw new BadRequestError(
        `Users can only be listed for presence channels; ${quoteForMessage(query.channel)} is not one.`,
      );
    }
    const ids = await presenceMemberIds(state, app.id, query.channel, nowMs);
    return { users: ids.map((id) => ({ id })) };
  }
  const info = infoParam(params, ['user_count', 'subscription_count', 'cache']);
  return channelAnswer(state, app.id, query.channel, info, nowMs);
}

async function listAnswer(
  state: StateTable,
  appId: string,
  prefix: string,
  info: readonly string[],
  nowMs: number,
): Promise<object> {
  if (info.includes('user_count') && !prefix.startsWith('presence-')) {
    throw new BadRequestError(
      'info=user_count is only available for presence channels: add filter_by_prefix=presence-.',
    );
  }
  const channels: Record<string, ChannelAttributes> = {};
  for (const entry of await listChannels(state, appId, prefix, nowMs)) {
    // Internal channels are the server's business, not the app's channel list.
    if (entry.channel.startsWith(SERVER_TO_USER_PREFIX)) continue;
    const attributes: ChannelAttributes = {};
    if (info.includes('user_count')) attributes.user_count = entry.userCount ?? 0;
    if (info.includes('subscription_count')) attributes.subscription_count = entry.subscriptionCount;
    channels[entry.channel] = attributes;
  }
  return { channels };
}

async function channelAnswer(
  state: StateTable,
  appId: string,
  channel: string,
  info: readonly string[],
  nowMs: number,
): Promise<object> {
  if (info.includes('user_count') && channelType(channel) !== 'presence') {
    throw new BadRequestError(
      `info=user_count is only available for presence channels; ${quoteForMessage(channel)} is not one.`,
    );
  }
  if (info.includes('cache') && !isCacheChannel(channel)) {
    throw new BadRequestError(
      `info=cache is only available for cache channels; ${quoteForMessage(channel)} is not one.`,
    );
  }
  const [counts, cached] = await Promise.all([
    channelCounts(state, appId, channel, nowMs),
    info.includes('cache') ? lastEvent(state, appId, channel, nowMs) : undefined,
  ]);
  const answer: { occupied: boolean; cache?: { data: string; ttl: number } | null } & ChannelAttributes = {
    occupied: counts.subscriptionCount > 0,
  };
  if (info.includes('user_count')) answer.user_count = counts.userCount;
  if (info.includes('subscription_count')) answer.subscription_count = counts.subscriptionCount;
  if (info.includes('cache')) {
    answer.cache = cached === undefined ? null : { data: cached.data, ttl: cached.ttlSeconds };
  }
  return answer;
}

function checkChannelName(app: App, channel: string): void {
  const check = validateChannelName(channel, channelNameLimitOf(app), { allowServerToUser: true });
  if (!check.ok) throw new BadRequestError(`channel: ${check.reason}`);
}

function singleParam(params: Record<string, string | string[]>, name: string): string | undefined {
  const value = params[name];
  if (Array.isArray(value)) throw new BadRequestError(`${name} may be given only once.`);
  return value;
}

/** `info`, a comma-separated list of the attributes the endpoint knows. */
function infoParam(params: Record<string, string | string[]>, known: readonly string[]): string[] {
  const info = singleParam(params, 'info');
  if (info === undefined || info === '') return [];
  const attributes = info.split(',');
  for (const attribute of attributes) {
    if (!known.includes(attribute)) {
      throw new BadRequestError(
        `info: unknown attribute ${quoteForMessage(attribute)}; this endpoint knows ${known.join(', ')}.`,
      );
    }
  }
  return attributes;
}
