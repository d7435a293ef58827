import type { App } from '../apps/app.js';
import { quoteForMessage } from '../protocol/quote.js';
import type { GatewayContext } from './context.js';
import { pusherError } from './frames.js';
import { type Outcome, replyWith } from './outcome.js';

export interface ClientEventRequest {
  readonly event: string;
  readonly channel: string | undefined;
  readonly data: unknown;
}

/**
 * A `client-` event from a connection. Not delivered yet (issue 6 adds delivery to the other subscribers of
 * private and presence channels, `EnableClientMessages` and `MaxClientEventsPerSecond`): the sender is told.
 */
export async function clientEvent(
  _context: GatewayContext,
  _app: App,
  _connectionId: string,
  request: ClientEventRequest,
): Promise<Outcome> {
  return replyWith(
    pusherError(
      `Client events are not supported by this server yet: ${quoteForMessage(request.event)} was not delivered`,
      null,
    ),
  );
}
