import { LogLevelThreshold } from '@aws-lambda-powertools/logger';
import type { AppLookupStats } from '../apps/lookup-stats.js';
import { everyInterval } from '../observability/interval.js';
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
  /** Publishes the counters as an EMF line (whatever the log level) instead of the INFO stats line. */
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
 * container (as an EMF line, written whatever the log level, when `metrics` is given), and with every denial or failure.
 */
export function createDecisionLog(
  logger: DecisionLogger,
  options: DecisionLogOptions,
): (fields: DecisionFields) => void {
  const statsDue = everyInterval(options.statsIntervalMs ?? 60_000, options.now);
  const counts = { allow: 0, deny: 0, error: 0 };

  return (fields) => {
    counts[fields.decision]++;
    // An allow line is built only when it will be written: this runs on every authorization.
    if (fields.decision !== 'allow' || logger.level <= LogLevelThreshold.DEBUG) {
      const { startedAt, ...decision } = fields;
      // The key or id may be whatever a client sent: keep a spray of huge ones from inflating the log bill.
      const rest = {
        ...decision,
        ...(decision.appKey === undefined ? {} : { appKey: shortened(decision.appKey) }),
        ...(decision.appId === undefined ? {} : { appId: shortened(decision.appId) }),
      };
      const latencyMs = Math.round((performance.now() - startedAt) * 1000) / 1000;
      if (fields.decision === 'allow') logger.debug('authorizer decision', { ...rest, latencyMs });
      else {
        const line = { ...rest, latencyMs, cache: options.stats() };
        if (fields.decision === 'error') logger.error('authorizer decision', line);
        else logger.info('authorizer decision', line);
      }
    }
    const at = statsDue();
    if (at !== undefined) {
      const cache = options.stats();
      const summary = { decisions: { ...counts }, cache };
      if (!options.metrics) logger.info('authorizer stats', summary);
      else {
        options.metrics.publish(
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
          { message: 'authorizer stats', ...summary },
          at,
        );
      }
    }
  };
}

/** What an authorizer decided, for its log line, next to the answer it returns to API Gateway. */
export interface LoggedOutcome<T> {
  readonly result: T;
  readonly decision: 'allow' | 'deny';
  readonly reason?: string;
  readonly appId?: string;
}

/**
 * Runs one authorization, timing it and logging its outcome; a failure is logged as `error` and rethrown,
 * so API Gateway answers 500 and the client retries.
 */
export async function logged<T>(
  logDecision: (fields: DecisionFields) => void,
  identity: Pick<DecisionFields, 'appId' | 'appKey'>,
  decide: () => Promise<LoggedOutcome<T>>,
): Promise<T> {
  const startedAt = performance.now();
  let outcome: LoggedOutcome<T>;
  try {
    outcome = await decide();
  } catch (error) {
    logDecision({ ...identity, decision: 'error', reason: String(error), startedAt });
    throw error;
  }
  // Fields copied one by one: an object rest or spread here costs more than the HMAC the decision took.
  logDecision({
    decision: outcome.decision,
    reason: outcome.reason,
    appId: outcome.appId ?? identity.appId,
    appKey: identity.appKey,
    startedAt,
  });
  return outcome.result;
}

/**
 * middy options for the authorizers. middy's early-timeout guard arms a timer on every invocation; an
 * authorizer answers in microseconds or fails on a bounded DynamoDB timeout, so it has no use for one.
 */
export const FAST_AUTHORIZER = Object.freeze({ timeoutEarlyInMillis: 0 });

const MAX_LOGGED_IDENTIFIER = 64;

function shortened(value: string): string {
  return value.length > MAX_LOGGED_IDENTIFIER ? `${value.slice(0, MAX_LOGGED_IDENTIFIER)}…` : value;
}
