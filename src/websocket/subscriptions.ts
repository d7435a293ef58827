import { type App, UNLIMITED } from '../apps/app.js';
import {
  announceDeparture,
  type GoneConnection,
  leaveChannel,
  type UncarriedCounts,
} from '../cleanup/cleanup.js';
import { quoteForMessage } from '../errors/format.js';
import type { GatewayContext, MessageContext } from '../gateway/context.js';
import { assertTimeToCommit, commitPromise } from '../gateway/deadline.js';
import { postToAll } from '../gateway/management-api.js';
import { socketIdOf } from '../gateway/socket-id.js';
import {
  type Frame,
  frameBytes,
  MAX_FRAME_BYTES,
  type Member,
  memberAdded,
  memberRemoved,
  presenceSubscriptionSucceeded,
  RATE_LIMIT_CODE,
  subscriptionError,
  subscriptionSucceeded,
} from '../protocol/frames.js';
import {
  channelType,
  MAX_USER_ID_LENGTH,
  parsePresenceChannelData,
  SERVER_TO_USER_PREFIX,
  validateChannelName,
  verifyChannelAuth,
} from '../protocol/index.js';
import {
  type ChannelSnapshot,
  type CountedSubscription,
  countSubscription,
  joinPresence,
  joinPresentMember,
  memberOf,
  putSubscriber,
  readChannel,
  recountMembers,
  type StoredMember,
  subscribersOtherThanUser,
} from '../state/channels.js';
import type { OpsRate } from '../state/connection-ops.js';
import {
  addChannel,
  removeChannel,
  type SubscriptionRequirement,
  stillSubscribed,
} from '../state/connections.js';
import { channelNameLimitOf } from '../state/keys.js';
import * as webhook from '../webhooks/events.js';
import { decodeInterest, interestOf } from '../webhooks/interest.js';
import { cachedEventFor, subscribed } from './cache-channel.js';
import { NO_REPLY, type Outcome, replyWith, UNKNOWN_CONNECTION } from './outcome.js';

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
  context: GatewayContext & Pick<MessageContext, 'connectionLimits'>,
  app: App,
  connectionId: string,
  request: SubscribeRequest,
): Promise<Outcome> {
  const { channel } = request;
  const maxLength = channelNameLimitOf(app);
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

/**
 * `pusher:unsubscribe`: undoes a subscription; a channel the connection is not subscribed to is ignored. It
 * uses the connection's subscribe credit, but is never refused for it.
 */
export async function unsubscribe(
  context: GatewayContext & Pick<MessageContext, 'connectionLimits'>,
  appId: string,
  connectionId: string,
  channel: string,
): Promise<Outcome> {
  const use = { rate: context.connectionLimits.ops, nowMs: context.now() };
  const record = await removeChannel(context.state, connectionId, channel, use);
  if (record === undefined) return NO_REPLY;
  const interest = decodeInterest(record.webhooks);
  return { reply: undefined, gone: await leaveChannel(context, appId, channel, connectionId, interest) };
}

/** What a connection over its subscribe/signin rate is told. */
export function tooFastReason(rate: OpsRate): string {
  return `A connection may subscribe and sign in at most ${rate.perSecond} times a second (${rate.burst} at once); try again shortly`;
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
  context: GatewayContext & Pick<MessageContext, 'connectionLimits'>,
  app: App,
  connectionId: string,
  channel: string,
  requirement: SubscriptionRequirement,
  presenceMember?: StoredMember,
): Promise<Outcome> {
  const { state } = context;
  // Nothing is written that there is no time left to take back.
  assertTimeToCommit(context);
  const added = await addChannel(
    state,
    connectionId,
    channel,
    requirement,
    context.now(),
    context.connectionLimits,
  );
  switch (added.kind) {
    case 'no-connection':
      return UNKNOWN_CONNECTION;
    case 'requirement-unmet':
      return replyWith(subscriptionError(channel, 'AuthError', unmetReason(channel, requirement), 401));
    case 'too-many-channels': {
      const reason = `A connection may hold at most ${context.connectionLimits.maxChannels} subscriptions; unsubscribe from one first`;
      return replyWith(subscriptionError(channel, 'LimitReached', reason, 4100));
    }
    case 'too-fast':
      return replyWith(
        subscriptionError(
          channel,
          'LimitReached',
          tooFastReason(context.connectionLimits.ops),
          RATE_LIMIT_CODE,
        ),
      );
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
  if (member !== undefined) return joinPresenceChannel(context, app, connectionId, channel, member);
  const uncarried: UncarriedCounts = { subscription: false, user: false };
  try {
    // Counted before the subscriber item is written: whoever deletes that item takes the count back.
    const counted = await countSubscription(
      state,
      app.id,
      channel,
      { subscriptions: 1, users: 0, maxUsers: UNLIMITED },
      context.now(),
    );
    uncarried.subscription = true;
    raiseIfEdge(context, app, channel, counted, 'channel_occupied');
    await putSubscriber(state, app.id, channel, connectionId, undefined, context.now());
    uncarried.subscription = false;
    const undone = await undoUnlessStillSubscribed(context, app, connectionId, channel, undefined);
    if (undone === undefined) assertTimeToCommit(context);
    return undone ?? (await subscribed(context, app, connectionId, channel));
  } catch (error) {
    await takeBackFailedSubscribe(context, app, connectionId, channel, undefined, uncarried);
    throw error;
  }
}

/**
 * Undoes a subscribe that failed before the client was told it succeeded. Left in the connection's set, the
 * channel would answer the client's next try "already subscribed" with nothing behind it; taken back, the
 * next try (pusher-js sends one when it reconnects) subscribes anew. Whoever deletes an item takes its count
 * back (`leaveChannel`), and a count taken for an item whose write failed is given back once: by that item
 * when the write was applied after all, else by `leaveChannel` not finding it. Failures here are logged:
 * the subscribe's own error is the one answered.
 */
async function takeBackFailedSubscribe(
  context: GatewayContext,
  app: App,
  connectionId: string,
  channel: string,
  presenceUserId: string | undefined,
  uncarried: Readonly<UncarriedCounts>,
): Promise<void> {
  try {
    await removeChannel(context.state, connectionId, channel);
    await leaveChannel(context, app.id, channel, connectionId, interestOf(app), presenceUserId, uncarried);
  } catch (error) {
    context.logger.error('taking back a failed subscribe failed', { connectionId, error: String(error) });
  }
}

/**
 * After a subscribe's last write: undefined while the connection still holds the subscription, else the
 * outcome of undoing what the subscribe wrote (a `$disconnect` or unsubscribe ran meanwhile and found
 * nothing yet to clean up). `leaveChannel` is idempotent, so a cleanup that did see it does no harm.
 */
async function undoUnlessStillSubscribed(
  context: GatewayContext,
  app: App,
  connectionId: string,
  channel: string,
  presenceUserId: string | undefined,
): Promise<Outcome | undefined> {
  if (await stillSubscribed(context.state, connectionId, channel)) return undefined;
  return {
    reply: undefined,
    gone: await leaveChannel(context, app.id, channel, connectionId, interestOf(app), presenceUserId),
  };
}

/**
 * Makes the connection one of the member's and records it as a subscriber: a new member takes room under
 * the member limit before it is written (so no roster lists a member that is then refused), another
 * connection of a present user needs none. A full channel is recounted once (a leaked count must not block
 * it). Counts come before the items they belong to: whoever deletes an item takes its count back, and
 * `uncarried` says which counts no item carries yet, for the take-back of a join that fails. Returns
 * whether the user is new to the channel, or undefined when the channel is full.
 */
async function admitMember(
  context: GatewayContext,
  app: App,
  channel: string,
  member: StoredMember,
  connectionId: string,
  uncarried: UncarriedCounts,
): Promise<{ readonly firstConnection: boolean } | undefined> {
  const { state } = context;
  const count = (subscriptions: 1 | 0 | -1, users: 1 | 0 | -1) =>
    countSubscription(
      state,
      app.id,
      channel,
      { subscriptions, users, maxUsers: app.maxPresenceMembersPerChannel },
      context.now(),
    );
  const subscribe = () => putSubscriber(state, app.id, channel, connectionId, member.userId, context.now());
  const reserved =
    (await count(1, 1)) ||
    ((await recountMembers(state, app.id, channel, context.now())) && (await count(1, 1)));
  if (!reserved) {
    if (!(await joinPresentMember(state, app.id, channel, member, connectionId, context.now())))
      return undefined;
    const counted = await count(1, 0);
    uncarried.subscription = true;
    raiseIfEdge(context, app, channel, counted, 'channel_occupied');
    await subscribe();
    uncarried.subscription = false;
    return { firstConnection: false };
  }
  uncarried.subscription = true;
  uncarried.user = true;
  raiseIfEdge(context, app, channel, reserved, 'channel_occupied');
  await subscribe();
  uncarried.subscription = false;
  const joined = await joinPresence(state, app.id, channel, member, connectionId, context.now());
  if (joined.firstConnection) {
    uncarried.user = false;
    context.webhooks?.raise(app.id, interestOf(app), webhook.memberAdded(channel, member.userId));
  } else {
    // The user was present already: the member item carries no count of this connection's.
    await count(0, -1);
    uncarried.user = false;
  }
  return joined;
}

async function joinPresenceChannel(
  context: GatewayContext,
  app: App,
  connectionId: string,
  channel: string,
  member: StoredMember,
): Promise<Outcome> {
  const { state } = context;
  let admitted: { readonly firstConnection: boolean } | undefined;
  let snapshot: ChannelSnapshot;
  const uncarried: UncarriedCounts = { subscription: false, user: false };
  try {
    admitted = await admitMember(context, app, channel, member, connectionId, uncarried);
    if (admitted === undefined) {
      await removeChannel(state, connectionId, channel);
      const reason = `The maximum members per presence channel (${app.maxPresenceMembersPerChannel}) was reached`;
      return replyWith(subscriptionError(channel, 'LimitReached', reason, 4100));
    }
    // The roster is posted, not answered as the route response (sent only when the Lambda returns): a
    // member_added or member_removed another Lambda posts meanwhile would reach pusher-js first, and the
    // roster would then overwrite it (Members.onSubscription). What changed since the read follows it.
    snapshot = await readChannel(state, app.id, channel, context.now());
    const leaveAsMember = () =>
      leaveChannel(context, app.id, channel, connectionId, interestOf(app), member.userId);
    const roster = presenceSubscriptionSucceeded(channel, snapshot.members.map(memberOf));
    const rosterBytes = frameBytes(roster);
    if (rosterBytes > MAX_FRAME_BYTES) {
      // No client could receive this roster: the join is taken back, never answered ServerError again and again.
      await removeChannel(state, connectionId, channel);
      const found = await leaveAsMember();
      const reason =
        `The member list of ${quoteForMessage(channel)} would be ${rosterBytes} bytes with this member, over ` +
        `API Gateway's limit of ${MAX_FRAME_BYTES} bytes per message: no more members fit`;
      return { reply: subscriptionError(channel, 'LimitReached', reason, 4100), gone: found };
    }
    // The roster is the promise: past the deadline the join is taken back instead.
    commitPromise(context);
    if ((await context.connections.post(connectionId, roster)) === 'gone') {
      // Gone before it could be announced: its `$disconnect` may have run before the member was written.
      const found = await leaveAsMember();
      return {
        reply: undefined,
        gone: [...found, { connectionId, subscription: { appId: app.id, channel } }],
      };
    }
  } catch (error) {
    await takeBackFailedSubscribe(context, app, connectionId, channel, member.userId, uncarried);
    throw error;
  }
  try {
    return await announceJoin(context, app, connectionId, channel, member, admitted, snapshot);
  } catch (error) {
    // The client has its roster and takes itself as subscribed: an error frame now would contradict it, and
    // taking the subscription back would leave it subscribed to nothing. Its records stay; what failed to
    // be announced is logged.
    context.logger.error('presence join announced only in part', { connectionId, error: String(error) });
    return NO_REPLY;
  }
}

/**
 * After the new member's roster went out: `member_added` to the others for a new user, the check that the
 * connection still holds the subscription, and what changed since the roster was read.
 */
async function announceJoin(
  context: GatewayContext,
  app: App,
  connectionId: string,
  channel: string,
  member: StoredMember,
  admitted: { readonly firstConnection: boolean },
  snapshot: ChannelSnapshot,
): Promise<Outcome> {
  const { state } = context;
  const subscription = { appId: app.id, channel };
  const gone: GoneConnection[] = [];
  if (admitted.firstConnection) {
    // Read after this connection's subscriber item was written: it is among the user's own, left out.
    const others = subscribersOtherThanUser(snapshot, member.userId);
    const added = await postToAll(
      context.connections,
      others,
      memberAdded(channel, memberOf(member)),
      context.logger,
    );
    gone.push(...added.gone.map((id) => ({ connectionId: id, subscription })));
  }
  // Checked after member_added went out: a `$disconnect` that cleaned up before it may have announced the
  // removal first, which the others' rosters must not end on.
  const undone = await undoUnlessStillSubscribed(context, app, connectionId, channel, member.userId);
  if (undone !== undefined) {
    gone.push(...undone.gone);
    if (admitted.firstConnection) {
      // The withdrawn member_added is answered as any departure is, whether or not a cleanup announced it.
      gone.push(...(await announceDeparture(context, app.id, channel, member.userId)));
    }
    return { reply: undefined, gone };
  }
  const now = await readChannel(state, app.id, channel, context.now());
  for (const frame of rosterChanges(channel, snapshot.members, now.members)) {
    if ((await context.connections.post(connectionId, frame)) === 'gone') {
      return { reply: undefined, gone: [...gone, { connectionId, subscription }] };
    }
  }
  const cached = await cachedEventFor(context, app, connectionId, channel);
  return { reply: undefined, gone: [...gone, ...cached.gone] };
}

/** The frames that bring a roster read as `before` up to `after`: removals, then additions. */
function rosterChanges(
  channel: string,
  before: readonly StoredMember[],
  after: readonly StoredMember[],
): Frame[] {
  const beforeIds = new Set(before.map((member) => member.userId));
  const afterIds = new Set(after.map((member) => member.userId));
  return [
    ...before
      .filter(({ userId }) => !afterIds.has(userId))
      .map(({ userId }) => memberRemoved(channel, userId)),
    ...after
      .filter(({ userId }) => !beforeIds.has(userId))
      .map((member) => memberAdded(channel, memberOf(member))),
  ];
}

/**
 * The occupancy webhook of a count that took the channel across its edge: a subscribe's from 0 to 1
 * (`channel_occupied`), a count given back from 1 to 0 (`channel_vacated`).
 */
function raiseIfEdge(
  context: GatewayContext,
  app: App,
  channel: string,
  counted: CountedSubscription | undefined,
  edge: 'channel_occupied' | 'channel_vacated',
): void {
  if (counted?.subscriptionCount === (edge === 'channel_occupied' ? 1 : 0)) {
    context.webhooks?.raise(app.id, interestOf(app), { name: edge, channel });
  }
}

async function roster(context: GatewayContext, appId: string, channel: string): Promise<Member[]> {
  return (await readChannel(context.state, appId, channel, context.now())).members.map(memberOf);
}

function unmetReason(channel: string, requirement: SubscriptionRequirement): string {
  return requirement.kind === 'user'
    ? `Only a connection signed in as user ${quoteForMessage(requirement.userId)} may subscribe to ${quoteForMessage(channel)}`
    : `Subscribing to ${quoteForMessage(channel)} without channel_data needs a signed-in connection (pusher:signin)`;
}
