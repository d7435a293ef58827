import { LogLevelThreshold } from '@aws-lambda-powertools/logger';
import type { AppLookupStats } from '../apps/lookup-stats.js';
import type { StructuredLogger } from '../observability/logger.js';
import type { CounterMetrics } from '../observability/metrics.js';

export interface DecisionFields {
  readonly decision: 'allow' | 'deny' | 'error';
  readonly reason?: string;
  readonly appId?: string;
  readonly appKey?: string;
  /** `performance.now()` when the invocation started. */
  readonly startedAt: number;
}

export interface DecisionLogOptions {
  /** Where the counters come from (the resolver's cache stats). */
  readonly stats: () => AppLookupStats;
  /** Turns the counters into EMF metrics on the stats line, once per interval. */
  readonly metrics?: CounterMetrics;
  /** How often the counters are logged at INFO, per container. */
  readonly statsIntervalMs?: number;
  readonly now?: () => number;
}

/** What the decision log needs beyond StructuredLogger. */
export type DecisionLogger = StructuredLogger & {
  debug(message: string, attributes: Record<string, unknown>): void;
  /** The level now in force, as Powertools numbers it; sampling (`POWERTOOLS_LOGGER_SAMPLE_RATE`) lowers it. */
  readonly level: number;
};

/**
 * One structured line per authorizer decision, never with the secret or a signature. Allows are logged at
 * DEBUG: they are the bulk of the traffic, API Gateway's access logs record them already, and a JSON line costs
 * more than the decision itself (set `POWERTOOLS_LOGGER_SAMPLE_RATE` to see a share of them). Denials are
 * INFO and failures ERROR. The decision counts and cache counters are logged at INFO once per interval per
 * container (as EMF metrics too when `metrics` is given), and with every denial or failure.
 */
export function createDecisionLog(
  logger: DecisionLogger,
  options: DecisionLogOptions,
): (fields: DecisionFields) => void {
  const intervalMs = options.statsIntervalMs ?? 60_000;
  const now = options.now ?? Date.now;
  const counts = { allow: 0, deny: 0, error: 0 };
  let lastStatsAt = now();

  return (fields) => {
    counts[fields.decision]++;
    // An allow line is built only when it will be written: this runs on every authorization.
    if (fields.decision !== 'allow' || logger.level <= LogLevelThreshold.DEBUG) {
      const { startedAt, ...rest } = fields;
      const latencyMs = Math.round((performance.now() - startedAt) * 1000) / 1000;
      if (fields.decision === 'allow') logger.debug('authorizer decision', { ...rest, latencyMs });
      else {
        const line = { ...rest, latencyMs, cache: options.stats() };
        if (fields.decision === 'error') logger.error('authorizer decision', line);
        else logger.info('authorizer decision', line);
      }
    }
    const at = now();
    if (at - lastStatsAt >= intervalMs) {
      lastStatsAt = at;
      const cache = options.stats();
      const metrics = options.metrics?.growth(
        {
          AuthorizerAllow: counts.allow,
          AuthorizerDeny: counts.deny,
          AuthorizerError: counts.error,
          AppCacheHits: cache.hits,
          AppCacheMisses: cache.misses,
          AppCacheNegativeHits: cache.negativeHits,
          AppCacheStaleServed: cache.staleServed,
          AppStoreErrors: cache.errors,
          AppCacheEvictions: cache.evictions,
        },
        at,
      );
      logger.info('authorizer stats', { decisions: { ...counts }, cache, ...metrics });
    }
  };
}

/**
 * middy options for the authorizers. middy's early-timeout guard arms a timer on every invocation; an
 * authorizer answers in microseconds or fails on a bounded DynamoDB timeout, so it has no use for one.
 */
export const FAST_AUTHORIZER = Object.freeze({ timeoutEarlyInMillis: 0 });
