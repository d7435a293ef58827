import type { RateLimiter } from '../limits/index.js';
import type { StructuredLogger } from '../observability/logger.js';
import type { StateTable } from '../state/table.js';
import type { ConnectionsApi } from './management-api.js';

/** What one invocation works with: the state table, the stage's `@connections` API, a rate limiter, a logger, a clock. */
export interface GatewayContext {
  readonly state: StateTable;
  readonly connections: ConnectionsApi;
  readonly logger: StructuredLogger;
  /** Per-connection client-event rates, shared across containers through the state table. */
  readonly rateLimiter: RateLimiter;
  /** Epoch milliseconds. */
  readonly now: () => number;
}
