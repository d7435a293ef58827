import { UNLIMITED } from '../apps/app.js';
import { forEachLimited } from '../gateway/concurrency.js';
import type { GatewayContext } from '../gateway/context.js';
import { postToAll } from '../gateway/management-api.js';
import { memberAdded, memberRemoved } from '../protocol/frames.js';
import {
  type CountedSubscription,
  countSubscription,
  deleteSubscriber,
  leavePresence,
  memberOf,
  readChannel,
  subscribersOtherThanUser,
} from '../state/channels.js';
import { releaseConnection } from '../state/connection-counter.js';
import { deleteConnection, restoreConnection } from '../state/connections.js';
import { deleteUserConnection } from '../state/users.js';
import * as webhook from '../webhooks/events.js';
import { decodeInterest, type WebhookInterest } from '../webhooks/interest.js';

/** A connection found gone (410), and the channel it was found in when that is known. */
export interface GoneConnection {
  readonly connectionId: string;
  readonly subscription?: { readonly appId: string; readonly channel: string };
}

/**
 * Connections cleaned up per invocation, those found gone while cleaning included: a channel full of dead
 * connections is cleared over several invocations rather than holding one past its timeout.
 */
export const MAX_CLEANUPS_PER_INVOCATION = 20;

/**
 * Counts a subscribe took for a connection that no item is known to carry yet: `subscription` until its
 * subscriber item is written, `user` until its member connection is written (or the count given back, the
 * user being present already).
 */
export interface UncarriedCounts {
  subscription: boolean;
  user: boolean;
}

const NOTHING_UNCARRIED: UncarriedCounts = { subscription: false, user: false };

/** Announcements after the first `member_removed`, each answering a join or leave of the user that raced it. */
const PRESENCE_SETTLE_ROUNDS = 2;

/** Channels of one connection left at once when it goes. */
const CHANNEL_CONCURRENCY = 8;

/**
 * Takes a subscription off a channel after the connection's own set no longer has it: the subscriber item,
 * the presence member (a user whose last connection leaves is announced to the others with
 * `member_removed`) and the channel index counts. Returns the connections found gone while announcing.
 * Each part is undone by whoever finds it still there, so it is safe to repeat. `presenceUserId` names the
 * member when the caller knows it (the subscriber item, which also tells, may be gone already). `uncarried`
 * names counts the caller took for this connection that no item is known to carry (a subscribe whose write
 * failed, perhaps after DynamoDB applied it): each is given back once, by the item found or else here.
 * Raises the `member_removed` and `channel_vacated` webhooks of the app's `interest` when this leave made
 * them so.
 */
export async function leaveChannel(
  context: GatewayContext,
  appId: string,
  channel: string,
  connectionId: string,
  interest: WebhookInterest,
  presenceUserId?: string,
  uncarried: Readonly<UncarriedCounts> = NOTHING_UNCARRIED,
): Promise<GoneConnection[]> {
  const { state } = context;
  const subscriber = await deleteSubscriber(state, appId, channel, connectionId);
  const userId = subscriber.userId ?? presenceUserId;
  const userLeft =
    userId !== undefined && (await leavePresence(state, appId, channel, userId, connectionId)).lastConnection;
  const subscriptionGone = subscriber.existed || uncarried.subscription;
  const userGone = userLeft || uncarried.user;
  let counted: CountedSubscription | undefined;
  if (subscriptionGone || userGone) {
    counted = await countSubscription(
      state,
      appId,
      channel,
      { subscriptions: subscriptionGone ? -1 : 0, users: userGone ? -1 : 0, maxUsers: UNLIMITED },
      context.now(),
    );
  }
  if (userLeft) context.webhooks?.raise(appId, interest, webhook.memberRemoved(channel, userId));
  if (subscriptionGone && counted?.subscriptionCount === 0) {
    context.webhooks?.raise(appId, interest, webhook.channelVacated(channel));
  }
  if (!userLeft) return [];
  return announceDeparture(context, appId, channel, userId);
}

/**
 * Announces to the channel where one user's presence now stands, after a departure or a withdrawn join: it
 * reads the channel before each announcement and announces only what changed since the last one (nothing
 * when the user is back already), so that a return or leave racing it (a page reload) does not leave the
 * others' rosters wrong. At most `PRESENCE_SETTLE_ROUNDS + 1` announcements. Returns the connections found gone.
 */
export async function announceDeparture(
  context: GatewayContext,
  appId: string,
  channel: string,
  userId: string,
): Promise<GoneConnection[]> {
  const gone: GoneConnection[] = [];
  let announcedPresent = true;
  for (let round = 0; round <= PRESENCE_SETTLE_ROUNDS; round++) {
    const snapshot = await readChannel(context.state, appId, channel, context.now());
    const member = snapshot.members.find((present) => present.userId === userId);
    if ((member !== undefined) === announcedPresent) return gone;
    announcedPresent = member !== undefined;
    const frame = member ? memberAdded(channel, memberOf(member)) : memberRemoved(channel, userId);
    const recipients = subscribersOtherThanUser(snapshot, userId);
    const posted = await postToAll(context.connections, recipients, frame, context.logger);
    gone.push(...posted.gone.map((id) => ({ connectionId: id, subscription: { appId, channel } })));
  }
  return gone;
}

/**
 * Removes everything a connection left in the state table: its record, its subscriptions (with
 * `member_removed` where it was a user's last connection), its signed-in user entry and its place in the
 * MaxConnections counter. Used by `$disconnect`, and for connections API Gateway answered 410 for: AWS does
 * not guarantee `$disconnect`. Connections found gone meanwhile are cleaned up too, up to
 * `MAX_CLEANUPS_PER_INVOCATION`. Failures are logged, never thrown, and returned by connection id: what is
 * left is found again by the sweeper, else expires by TTL.
 */
export async function cleanUpConnections(
  context: GatewayContext,
  connections: readonly GoneConnection[],
): Promise<{ readonly failed: readonly string[] }> {
  const queue = [...connections];
  const done = new Set<string>();
  const failed: string[] = [];
  while (queue.length > 0 && done.size < MAX_CLEANUPS_PER_INVOCATION) {
    const next = queue.shift()!;
    if (done.has(next.connectionId)) continue;
    done.add(next.connectionId);
    try {
      queue.push(...(await cleanUpConnection(context, next)));
    } catch (error) {
      failed.push(next.connectionId);
      context.logger.error('connection cleanup failed', {
        connectionId: next.connectionId,
        error: String(error),
      });
    }
  }
  if (queue.length > 0) {
    context.logger.warn('connection cleanups deferred', { remaining: queue.length });
  }
  return { failed };
}

async function cleanUpConnection(context: GatewayContext, gone: GoneConnection): Promise<GoneConnection[]> {
  const { state } = context;
  const found: GoneConnection[] = [];
  const record = await deleteConnection(state, gone.connectionId);
  // The record says which webhooks the app asked for; without it (cleaned up already) none is raised.
  const interest = decodeInterest(record?.webhooks);
  // A subscriber item can outlive its connection's record (a subscribe racing a disconnect): drop it too.
  const { subscription } = gone;
  if (
    subscription &&
    !(record?.appId === subscription.appId && record.channels.includes(subscription.channel))
  ) {
    found.push(
      ...(await leaveChannel(context, subscription.appId, subscription.channel, gone.connectionId, interest)),
    );
  }
  if (record === undefined) return found;
  try {
    await forEachLimited(record.channels, CHANNEL_CONCURRENCY, async (channel) => {
      found.push(...(await leaveChannel(context, record.appId, channel, gone.connectionId, interest)));
    });
    if (record.user) await deleteUserConnection(state, record.appId, record.user.userId, gone.connectionId);
    await releaseConnection(state, record.appId, record.bucket);
  } catch (error) {
    // The record is the only list of what is left to clean up: put back, it lets the sweeper's next turn
    // (or a 410) finish the job. Each step is safe to repeat, but for one that failed after DynamoDB applied
    // it: repeated, such a release counts a MaxConnections slot twice (as any ambiguous write may).
    await restoreConnection(state, record).catch((restoreError: unknown) =>
      context.logger.error('putting back a half-cleaned connection failed', {
        connectionId: gone.connectionId,
        error: String(restoreError),
      }),
    );
    throw error;
  }
  context.logger.info('connection cleaned up', {
    connectionId: gone.connectionId,
    appId: record.appId,
    channels: record.channels.length,
  });
  return found;
}
