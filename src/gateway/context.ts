import type { StructuredLogger } from '../observability/logger.js';
import type { StateTable } from '../state/table.js';
import type { ConnectionsApi } from './management-api.js';

/** What one invocation works with: the state table, the stage's `@connections` API, a logger, a clock. */
export interface GatewayContext {
  readonly state: StateTable;
  readonly connections: ConnectionsApi;
  readonly logger: StructuredLogger;
  /** Epoch milliseconds. */
  readonly now: () => number;
}
