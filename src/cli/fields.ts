import type { App } from '../apps/app.js';
import type { AppLimitDefaults } from '../config/config.js';

/** The DynamoDB attribute behind each `App` property (soketi's PascalCase names). */
export const ATTRIBUTES = {
  id: 'AppId',
  key: 'AppKey',
  secret: 'AppSecret',
  enabled: 'Enabled',
  enableClientMessages: 'EnableClientMessages',
  enableUserAuthentication: 'EnableUserAuthentication',
  maxConnections: 'MaxConnections',
  maxBackendEventsPerSecond: 'MaxBackendEventsPerSecond',
  maxClientEventsPerSecond: 'MaxClientEventsPerSecond',
  maxReadRequestsPerSecond: 'MaxReadRequestsPerSecond',
  maxPresenceMembersPerChannel: 'MaxPresenceMembersPerChannel',
  maxPresenceMemberSizeInKb: 'MaxPresenceMemberSizeInKb',
  maxChannelNameLength: 'MaxChannelNameLength',
  maxEventChannelsAtOnce: 'MaxEventChannelsAtOnce',
  maxEventNameLength: 'MaxEventNameLength',
  maxEventPayloadInKb: 'MaxEventPayloadInKb',
  maxEventBatchSize: 'MaxEventBatchSize',
  webhooks: 'Webhooks',
} as const satisfies Record<keyof App, string>;

export type AppMember = keyof typeof ATTRIBUTES;
export type IdentityMember = 'id' | 'key' | 'secret';
export type BooleanMember = 'enabled' | 'enableClientMessages' | 'enableUserAuthentication';
/** Limits that are unlimited when absent; every item the CLI writes carries them. */
export type WrittenLimitMember =
  | 'maxConnections'
  | 'maxBackendEventsPerSecond'
  | 'maxClientEventsPerSecond'
  | 'maxReadRequestsPerSecond';
/** Limits that follow the server's setting while absent; the CLI writes them only when asked to. */
export type ServerDefaultLimitMember = keyof AppLimitDefaults;
export type LimitMember = WrittenLimitMember | ServerDefaultLimitMember;

export const BOOLEAN_MEMBERS: readonly BooleanMember[] = [
  'enabled',
  'enableClientMessages',
  'enableUserAuthentication',
];
export const WRITTEN_LIMIT_MEMBERS: readonly WrittenLimitMember[] = [
  'maxConnections',
  'maxBackendEventsPerSecond',
  'maxClientEventsPerSecond',
  'maxReadRequestsPerSecond',
];
export const SERVER_DEFAULT_LIMIT_MEMBERS: readonly ServerDefaultLimitMember[] = [
  'maxPresenceMembersPerChannel',
  'maxPresenceMemberSizeInKb',
  'maxChannelNameLength',
  'maxEventChannelsAtOnce',
  'maxEventNameLength',
  'maxEventPayloadInKb',
  'maxEventBatchSize',
];
export const LIMIT_MEMBERS: readonly LimitMember[] = [
  ...WRITTEN_LIMIT_MEMBERS,
  ...SERVER_DEFAULT_LIMIT_MEMBERS,
];
export const APP_MEMBERS = Object.keys(ATTRIBUTES) as AppMember[];

/** The variable that sets each server-default limit (see `loadConfig`), also read with a `SOKETI_` prefix. */
export const SERVER_DEFAULT_VARIABLES: Readonly<Record<ServerDefaultLimitMember, string>> = {
  maxPresenceMembersPerChannel: 'PRESENCE_MAX_MEMBERS',
  maxPresenceMemberSizeInKb: 'PRESENCE_MAX_MEMBER_SIZE',
  maxChannelNameLength: 'CHANNEL_LIMITS_MAX_NAME_LENGTH',
  maxEventChannelsAtOnce: 'EVENT_MAX_CHANNELS_AT_ONCE',
  maxEventNameLength: 'EVENT_MAX_NAME_LENGTH',
  maxEventPayloadInKb: 'EVENT_MAX_SIZE_IN_KB',
  maxEventBatchSize: 'EVENT_MAX_BATCH_SIZE',
};

/** The booleans' values when absent, the same in soketi and here. */
export const BOOLEAN_DEFAULTS: Readonly<Record<BooleanMember, boolean>> = {
  enabled: true,
  enableClientMessages: false,
  enableUserAuthentication: false,
};

/** What each setting does, for `--help`. */
export const DESCRIPTIONS: Readonly<Record<AppMember, string>> = {
  id: 'app id (default: 10 random digits)',
  key: 'app key, the public half (default: 20 random hex digits)',
  secret:
    'app secret, any non-empty text (under 32 characters: stored with a warning); prefer "-", which reads it from standard input (default: 64 random hex digits)',
  enabled: 'whether the app may connect and publish',
  enableClientMessages: 'let clients send client-* events',
  enableUserAuthentication: 'require pusher:signin on every connection',
  maxConnections: 'concurrent WebSocket connections',
  maxBackendEventsPerSecond: 'events published through the HTTP API per second',
  maxClientEventsPerSecond: 'client events per second and connection',
  maxReadRequestsPerSecond: 'HTTP API read requests per second',
  maxPresenceMembersPerChannel: 'members in one presence channel',
  maxPresenceMemberSizeInKb: 'size of one presence member’s user info, in KB',
  maxChannelNameLength: 'characters in a channel name',
  maxEventChannelsAtOnce: 'channels one published event may go to',
  maxEventNameLength: 'characters in an event name',
  maxEventPayloadInKb: 'size of an event’s data, in KB',
  maxEventBatchSize: 'events in one batch request',
  webhooks: 'soketi’s Webhooks JSON array, inline or @FILE',
};

/** `maxConnections` → `--max-connections`. */
export function flagOf(member: AppMember): string {
  return `--${member.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

/**
 * The member a problem path names, and the rest of the path: `Webhooks[0].url` → `webhooks`, `[0].url`.
 * Paths that name no known attribute come back whole, with no member.
 */
export function splitProblemPath(path: string): { member: AppMember | undefined; rest: string } {
  for (const member of APP_MEMBERS) {
    const attribute = ATTRIBUTES[member];
    if (path === attribute || path.startsWith(`${attribute}[`) || path.startsWith(`${attribute}.`)) {
      return { member, rest: path.slice(attribute.length) };
    }
  }
  return { member: undefined, rest: path };
}

/** A problem path with the attribute spelled as its `App` member: `Webhooks[0].url` → `webhooks[0].url`. */
export function memberPath(path: string): string {
  const { member, rest } = splitProblemPath(path);
  return member === undefined ? path : `${member}${rest}`;
}
