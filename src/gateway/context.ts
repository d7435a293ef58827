import type { RateLimiter } from '../limits/rate-limiter.js';
import type { StructuredLogger } from '../observability/logger.js';
import type { ConnectionLimits } from '../state/connections.js';
import type { StateTable } from '../state/table.js';
import type { WebhookRaiser } from '../webhooks/outbox.js';
import type { MessageDeadline } from './deadline.js';
import type { ConnectionsApi } from './management-api.js';

/**
 * What one invocation works with: the state table, the stage's `@connections` API, a logger, a clock, and
 * where it raises webhook events (absent: raised nowhere).
 */
export interface GatewayContext {
  readonly state: StateTable;
  readonly connections: ConnectionsApi;
  readonly logger: StructuredLogger;
  /** Epoch milliseconds. */
  readonly now: () => number;
  /** This invocation's outbox (see `GatewayRuntime.withWebhooks`); never shared between invocations. */
  readonly webhooks?: WebhookRaiser;
  /** For a `$default` invocation: when it must stop promising and answer (absent: no bound). */
  readonly deadline?: MessageDeadline;
}

/**
 * What a `$default` invocation works with: the gateway context and the client-event rate limiter. Kept apart
 * so that the Lambdas that never take client events (greeter, `$disconnect`, fan-out) do not bundle it.
 */
export interface MessageContext extends GatewayContext {
  /** Per-connection client-event rates, shared across containers through the state table. */
  readonly rateLimiter: RateLimiter;
  /** Subscriptions one connection may hold at once, and how fast it may subscribe and sign in. */
  readonly connectionLimits: ConnectionLimits;
}
