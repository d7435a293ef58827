import type { App } from '../apps/app.js';
import type { GatewayContext, MessageContext } from '../gateway/context.js';
import { socketIdOf } from '../gateway/socket-id.js';
import { pusherError, RATE_LIMIT_CODE, signinSuccess, UNAUTHORIZED_CODE } from '../protocol/frames.js';
import { parseUserData, verifyUserAuth } from '../protocol/index.js';
import { setUser } from '../state/connections.js';
import { deleteUserConnection, putUserConnection } from '../state/users.js';
import { type Outcome, replyWith, UNKNOWN_CONNECTION } from './outcome.js';
import { tooFastReason } from './subscriptions.js';

/**
 * `pusher:signin`: `auth` must sign `<socket_id>::user::<user_data>` with the app secret, and `user_data`
 * must hold a valid `id`. The user is recorded on the connection (for `#server-to-user-<id>` and presence
 * without `channel_data`) and in the user's connection list (for terminate_connections). A refusal is a
 * `pusher:error` with 4009, "connection is unauthorized"; the connection stays open, as a closed one would
 * only reconnect and sign in again. A connection over its subscribe/signin rate gets a `pusher:error` 4301.
 */
export async function signin(
  context: GatewayContext & Pick<MessageContext, 'connectionLimits'>,
  app: App,
  connectionId: string,
  request: { readonly auth: string; readonly userData: string },
): Promise<Outcome> {
  const socketId = socketIdOf(connectionId);
  if (!verifyUserAuth({ app, socketId, userData: request.userData, auth: request.auth })) {
    return refused(
      `Invalid signin: auth must be "<app key>:<hex HMAC-SHA256 of socket_id::user::user_data>" signed with the app's secret`,
    );
  }
  const parsed = parseUserData(request.userData);
  if (!parsed.ok) return refused(`Invalid signin: ${parsed.reason}`);
  const { id: userId, user_info: userInfo } = parsed.user;
  const { state } = context;
  const recorded = await setUser(
    state,
    connectionId,
    { userId, userInfoJson: userInfo === undefined ? undefined : JSON.stringify(userInfo) },
    context.connectionLimits.ops,
    context.now(),
  );
  if (recorded.kind === 'no-connection') return UNKNOWN_CONNECTION;
  if (recorded.kind === 'too-fast') {
    return replyWith(pusherError(tooFastReason(context.connectionLimits.ops), RATE_LIMIT_CODE));
  }
  if (recorded.previousUserId !== undefined && recorded.previousUserId !== userId) {
    await deleteUserConnection(state, app.id, recorded.previousUserId, connectionId);
  }
  await putUserConnection(state, app.id, userId, connectionId, context.now());
  return replyWith(signinSuccess(request.userData));
}

function refused(message: string): Outcome {
  return replyWith(pusherError(message, UNAUTHORIZED_CODE));
}
