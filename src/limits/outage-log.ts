import { describeError } from '../errors/format.js';
import type { StructuredLogger } from '../observability/logger.js';

/**
 * Reports state-table failures at most once per interval, however many requests they affect, with
 * the number of failures since the last warning; and reports the recovery once after each warning.
 */
export class OutageLog {
  private lastWarningAt = Number.NEGATIVE_INFINITY;
  private failuresSinceWarning = 0;
  private warnedSinceRecovery = false;

  constructor(
    private readonly logger: StructuredLogger,
    private readonly tableName: string,
    private readonly intervalMs: number,
  ) {}

  failed(at: number, appId: string, kind: string, error: unknown): void {
    this.failuresSinceWarning++;
    if (at - this.lastWarningAt < this.intervalMs) return;
    this.logger.warn(
      'Rate limiter state table unavailable: deciding with the per-container fallback limiter',
      {
        tableName: this.tableName,
        appId,
        kind,
        error: describeError(error),
        failuresSinceLastWarning: this.failuresSinceWarning,
      },
    );
    this.lastWarningAt = at;
    this.failuresSinceWarning = 0;
    this.warnedSinceRecovery = true;
  }

  recovered(appId: string, kind: string): void {
    if (!this.warnedSinceRecovery) return;
    this.warnedSinceRecovery = false;
    this.logger.info('Rate limiter state table answers again: shared limits restored', {
      tableName: this.tableName,
      appId,
      kind,
    });
  }
}

/** Name and message only: SDK errors carry request metadata that has no place in a log line. */
