import { type App, UNLIMITED } from '../apps/app.js';
import { quoteForMessage } from '../format.js';
import {
  channelType,
  MAX_USER_ID_LENGTH,
  parsePresenceChannelData,
  SERVER_TO_USER_PREFIX,
  validateChannelName,
  verifyChannelAuth,
} from '../protocol/index.js';
import {
  countSubscription,
  deleteSubscriber,
  joinPresence,
  leavePresence,
  putSubscriber,
  readChannel,
  type StoredMember,
} from '../state/channels.js';
import { addChannel, removeChannel, type SubscriptionRequirement } from '../state/connections.js';
import { cleanUpConnections, leaveChannel } from './cleanup.js';
import type { GatewayContext } from './context.js';
import {
  type Member,
  memberAdded,
  presenceSubscriptionSucceeded,
  subscriptionError,
  subscriptionSucceeded,
} from './frames.js';
import { postToAll } from './management-api.js';
import { NO_REPLY, type Outcome, replyWith, UNKNOWN_CONNECTION } from './outcome.js';
import { socketIdOf } from './socket-id.js';

/**
 * The longest channel name stored whatever the app allows: names are part of DynamoDB keys (a sort key
 * holds at most 1024 bytes), and Pusher's own limit is 200 (SDKs) or 164 (docs).
 */
export const MAX_STORABLE_CHANNEL_NAME_LENGTH = 500;

export interface SubscribeRequest {
  readonly channel: string;
  readonly auth: string | undefined;
  readonly channelData: string | undefined;
}

/**
 * `pusher:subscribe`: checks the channel name against the app's limit, the auth signature against the app
 * secret for this connection's socket id, presence `channel_data` and the member limits, then records the
 * subscription (connection set, channel partition, channel index) and answers
 * `pusher_internal:subscription_succeeded`, with the roster on presence channels, where a new user is
 * announced to the other members.
 */
export async function subscribe(
  context: GatewayContext,
  app: App,
  connectionId: string,
  request: SubscribeRequest,
): Promise<Outcome> {
  const { channel } = request;
  const maxLength = Math.min(app.maxChannelNameLength, MAX_STORABLE_CHANNEL_NAME_LENGTH);
  const name = validateChannelName(channel, maxLength, { allowServerToUser: true });
  if (!name.ok) {
    return replyWith(
      subscriptionError(
        channel,
        channel.length > maxLength ? 'LimitReached' : 'InvalidChannel',
        name.reason,
        4009,
      ),
    );
  }
  const type = channelType(channel);
  if (type === 'public') return subscribeTo(context, app, connectionId, channel, { kind: 'none' });
  if (type === 'server-to-user') {
    const userId = channel.slice(SERVER_TO_USER_PREFIX.length);
    return subscribeTo(context, app, connectionId, channel, { kind: 'user', userId });
  }
  const authProblem = checkAuth(app, connectionId, request);
  if (authProblem !== undefined) return replyWith(subscriptionError(channel, 'AuthError', authProblem, 401));
  if (type !== 'presence') return subscribeTo(context, app, connectionId, channel, { kind: 'none' });
  if (request.channelData === undefined) {
    return subscribeTo(context, app, connectionId, channel, { kind: 'signed-in' });
  }
  const parsed = parsePresenceChannelData(request.channelData, app.maxPresenceMemberSizeInKb);
  if (!parsed.ok) {
    return parsed.problem === 'too-large'
      ? replyWith(subscriptionError(channel, 'LimitReached', parsed.reason, 4301))
      : replyWith(subscriptionError(channel, 'InvalidChannelData', parsed.reason, 400));
  }
  const { userId, userInfo } = parsed.member;
  if (userId.length > MAX_USER_ID_LENGTH) {
    const reason = `channel_data.user_id is ${userId.length} characters; the limit is ${MAX_USER_ID_LENGTH}`;
    return replyWith(subscriptionError(channel, 'InvalidChannelData', reason, 400));
  }
  const member = { userId, userInfoJson: userInfo === undefined ? undefined : JSON.stringify(userInfo) };
  return subscribeTo(context, app, connectionId, channel, { kind: 'none' }, member);
}

/** `pusher:unsubscribe`: undoes a subscription; a channel the connection is not subscribed to is ignored. */
export async function unsubscribe(
  context: GatewayContext,
  appId: string,
  connectionId: string,
  channel: string,
): Promise<Outcome> {
  if (!(await removeChannel(context.state, connectionId, channel))) return NO_REPLY;
  return { reply: undefined, gone: await leaveChannel(context, appId, channel, connectionId) };
}

/** Why the subscription's auth is refused, or undefined when it is the app's signature for this socket. */
function checkAuth(app: App, connectionId: string, request: SubscribeRequest): string | undefined {
  const { channel, auth, channelData } = request;
  if (auth === undefined) return `Auth info required to subscribe to ${quoteForMessage(channel)}`;
  const socketId = socketIdOf(connectionId);
  if (verifyChannelAuth({ app, socketId, channel, channelData, auth })) return undefined;
  const signed = channelData === undefined ? 'socket_id:channel_name' : 'socket_id:channel_name:channel_data';
  return `Invalid signature for ${quoteForMessage(channel)}: auth must be "<app key>:<hex HMAC-SHA256 of ${signed}>" signed with the app's secret`;
}

async function subscribeTo(
  context: GatewayContext,
  app: App,
  connectionId: string,
  channel: string,
  requirement: SubscriptionRequirement,
  presenceMember?: StoredMember,
): Promise<Outcome> {
  const { state } = context;
  const added = await addChannel(state, connectionId, channel, requirement, context.now());
  switch (added.kind) {
    case 'no-connection':
      return UNKNOWN_CONNECTION;
    case 'requirement-unmet':
      return replyWith(subscriptionError(channel, 'AuthError', unmetReason(channel, requirement), 401));
    case 'already-subscribed':
      return replyWith(
        channelType(channel) === 'presence'
          ? presenceSubscriptionSucceeded(channel, await roster(context, app.id, channel))
          : subscriptionSucceeded(channel),
      );
  }
  const member: StoredMember | undefined =
    channelType(channel) !== 'presence'
      ? undefined
      : (presenceMember ?? {
          // The signed-in user (the `signed-in` requirement held).
          userId: added.connection.user!.userId,
          userInfoJson: added.connection.user!.userInfoJson,
        });
  const now = context.now();
  await putSubscriber(state, app.id, channel, connectionId, member?.userId, now);
  if (member === undefined) {
    await countSubscription(state, app.id, channel, { subscriptions: 1, users: 0, maxUsers: UNLIMITED }, now);
    return replyWith(subscriptionSucceeded(channel));
  }
  return joinPresenceChannel(context, app, connectionId, channel, member);
}

async function joinPresenceChannel(
  context: GatewayContext,
  app: App,
  connectionId: string,
  channel: string,
  member: StoredMember,
): Promise<Outcome> {
  const { state } = context;
  const { firstConnection } = await joinPresence(state, app.id, channel, member, connectionId, context.now());
  const counted = await countSubscription(
    state,
    app.id,
    channel,
    { subscriptions: 1, users: firstConnection ? 1 : 0, maxUsers: app.maxPresenceMembersPerChannel },
    context.now(),
  );
  if (!counted) {
    await leavePresence(state, app.id, channel, member.userId, connectionId);
    await deleteSubscriber(state, app.id, channel, connectionId);
    await removeChannel(state, connectionId, channel);
    const reason = `The maximum members per presence channel (${app.maxPresenceMembersPerChannel}) was reached`;
    return replyWith(subscriptionError(channel, 'LimitReached', reason, 4100));
  }
  let snapshot = await readChannel(state, app.id, channel, context.now());
  if (firstConnection) {
    const others = snapshot.subscriberConnectionIds.filter((id) => id !== connectionId);
    const added = await postToAll(
      context.connections,
      others,
      memberAdded(channel, toMember(member)),
      context.logger,
    );
    if (added.gone.length > 0) {
      // Before the roster is answered: it must not list members whose removal the subscriber is not yet
      // subscribed to hear (pusher-js ignores member_removed until subscription_succeeded).
      const subscription = { appId: app.id, channel };
      await cleanUpConnections(
        context,
        added.gone.map((id) => ({ connectionId: id, subscription })),
      );
      snapshot = await readChannel(state, app.id, channel, context.now());
    }
  }
  return replyWith(presenceSubscriptionSucceeded(channel, snapshot.members.map(toMember)));
}

async function roster(context: GatewayContext, appId: string, channel: string): Promise<Member[]> {
  return (await readChannel(context.state, appId, channel, context.now())).members.map(toMember);
}

function toMember(member: StoredMember): Member {
  return {
    userId: member.userId,
    userInfo: member.userInfoJson === undefined ? undefined : JSON.parse(member.userInfoJson),
  };
}

function unmetReason(channel: string, requirement: SubscriptionRequirement): string {
  return requirement.kind === 'user'
    ? `Only a connection signed in as user ${quoteForMessage(requirement.userId)} may subscribe to ${quoteForMessage(channel)}`
    : `Subscribing to ${quoteForMessage(channel)} without channel_data needs a signed-in connection (pusher:signin)`;
}
