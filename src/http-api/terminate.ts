import { cleanUpConnections } from '../cleanup/cleanup.js';
import { forEachLimited } from '../gateway/concurrency.js';
import type { GatewayContext } from '../gateway/context.js';
import { closeWithFrame, FAN_OUT_CONCURRENCY } from '../gateway/management-api.js';
import { pusherError } from '../protocol/frames.js';
import { userConnectionIds } from '../state/users.js';

/**
 * What a terminated connection is told before it is closed: soketi's frame. 4009 ("connection is
 * unauthorized", in pusher-js's 4000–4099 range) makes pusher-js stop instead of reconnecting at once.
 */
export const TERMINATED_FRAME = pusherError('You got disconnected by the app.', 4009);

/**
 * `terminate_connections`: closes every connection signed in as the user (`pusher:signin`), each told why
 * first, and removes their state right away (presence members leave with `member_removed`), so reads that
 * follow see them gone without waiting for `$disconnect`, which then finds nothing left. Returns how many
 * connections were closed. A connection that fails to close is logged; its state is removed all the same.
 */
export async function terminateUserConnections(
  context: GatewayContext,
  appId: string,
  userId: string,
): Promise<number> {
  const connectionIds = await userConnectionIds(context.state, appId, userId, context.now());
  await forEachLimited(connectionIds, FAN_OUT_CONCURRENCY, async (connectionId) => {
    try {
      await closeWithFrame(context.connections, connectionId, TERMINATED_FRAME);
    } catch (error) {
      context.logger.warn('closing a terminated connection failed', { connectionId, error: String(error) });
    }
  });
  await cleanUpConnections(
    context,
    connectionIds.map((connectionId) => ({ connectionId })),
  );
  return connectionIds.length;
}
