import { LogLevelThreshold } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import { createDecisionLog } from '../../../src/authorizers/decision-log.js';
import { CounterMetrics } from '../../../src/observability/metrics.js';
import { recordingLogger } from '../../support/recording-logger.js';

const STATS = {
  hits: 7,
  negativeHits: 1,
  misses: 2,
  staleServed: 0,
  errors: 0,
  dataErrors: 0,
  rejected: 0,
  evictions: 0,
  entries: 3,
};

function setup(level: number = LogLevelThreshold.DEBUG, metrics?: CounterMetrics) {
  const logger = recordingLogger();
  const debug: { message: string; attributes: Record<string, unknown> }[] = [];
  let clock = 0;
  const log = createDecisionLog(
    {
      ...logger,
      debug: (message, attributes) => void debug.push({ message, attributes }),
      level,
    },
    { stats: () => STATS, statsIntervalMs: 60_000, now: () => clock, ...(metrics ? { metrics } : {}) },
  );
  return { logger, debug, log, advance: (ms: number) => (clock += ms) };
}

describe('createDecisionLog', () => {
  it('logs an allow at DEBUG and a denial or failure at INFO/ERROR with the cache counters', () => {
    const { logger, debug, log } = setup();
    const startedAt = performance.now();
    log({ decision: 'allow', appId: 'a', startedAt });
    log({ decision: 'deny', reason: 'unknown-key', appKey: 'k', startedAt });
    log({ decision: 'error', reason: 'StoreUnavailableError', startedAt });
    expect(debug).toMatchObject([
      { message: 'authorizer decision', attributes: { decision: 'allow', appId: 'a' } },
    ]);
    expect(debug[0]!.attributes.latencyMs).toBeTypeOf('number');
    expect(logger.records).toMatchObject([
      { level: 'info', attributes: { decision: 'deny', reason: 'unknown-key', cache: STATS } },
      { level: 'error', attributes: { decision: 'error', cache: STATS } },
    ]);
  });

  it('does not even build an allow line when DEBUG is off', () => {
    const { logger, debug, log } = setup(LogLevelThreshold.INFO);
    log({ decision: 'allow', appId: 'a', startedAt: performance.now() });
    log({ decision: 'deny', reason: 'unknown-key', startedAt: performance.now() });
    expect(debug).toHaveLength(0);
    expect(logger.records).toMatchObject([{ level: 'info', attributes: { decision: 'deny' } }]);
  });

  it('logs the decision counts and cache counters at INFO once per interval', () => {
    const { logger, log, advance } = setup();
    const startedAt = performance.now();
    log({ decision: 'allow', startedAt });
    advance(59_999);
    log({ decision: 'allow', startedAt });
    expect(logger.records).toHaveLength(0);
    advance(1);
    log({ decision: 'allow', startedAt });
    advance(30_000);
    log({ decision: 'allow', startedAt });
    expect(logger.records).toEqual([
      {
        level: 'info',
        message: 'authorizer stats',
        attributes: { decisions: { allow: 3, deny: 0, error: 0 }, cache: STATS },
      },
    ]);
  });

  it('puts the counters on the stats line as EMF metrics, each time the growth since the last', () => {
    const { logger, log, advance } = setup(LogLevelThreshold.INFO, new CounterMetrics({}));
    const startedAt = performance.now();
    log({ decision: 'allow', startedAt });
    advance(60_000);
    log({ decision: 'deny', startedAt });
    log({ decision: 'allow', startedAt });
    advance(60_000);
    log({ decision: 'allow', startedAt });
    const stats = logger.records.filter((record) => record.message === 'authorizer stats');
    expect(stats).toHaveLength(2);
    expect(stats[0]!.attributes).toMatchObject({
      AuthorizerAllow: 1,
      AuthorizerDeny: 1,
      AppCacheHits: 7,
      _aws: {
        Timestamp: 60_000,
        CloudWatchMetrics: [
          {
            Namespace: 'PusherLambdaAuthorizer',
            Dimensions: [['service']],
            Metrics: expect.arrayContaining([{ Name: 'AuthorizerAllow', Unit: 'Count' }]),
          },
        ],
      },
    });
    expect(stats[1]!.attributes).toMatchObject({ AuthorizerAllow: 2, AuthorizerDeny: 0, AppCacheHits: 0 });
  });
});
