import { LogLevelThreshold } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import { createDecisionLog, logged } from '../../../src/authorizers/decision-log.js';
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

  it('publishes the counters as an EMF line whatever the log level, each time the growth since the last', () => {
    const lines: string[] = [];
    const metrics = new CounterMetrics('test-service', { env: {}, write: (line) => void lines.push(line) });
    const { logger, log, advance } = setup(LogLevelThreshold.CRITICAL, metrics);
    const startedAt = performance.now();
    log({ decision: 'allow', startedAt });
    advance(60_000);
    log({ decision: 'deny', startedAt });
    log({ decision: 'allow', startedAt });
    advance(60_000);
    log({ decision: 'allow', startedAt });
    expect(logger.records.filter((record) => record.message === 'authorizer stats')).toHaveLength(0);
    const emf = lines.map((line) => JSON.parse(line));
    expect(emf).toHaveLength(2);
    expect(emf[0]).toMatchObject({
      message: 'authorizer stats',
      service: 'test-service',
      decisions: { allow: 1, deny: 1, error: 0 },
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
    expect(emf[1]).toMatchObject({ AuthorizerAllow: 2, AuthorizerDeny: 0, AppCacheHits: 0 });
  });

  it('shortens a client-sent key or id in the line', () => {
    const { logger, log } = setup();
    log({ decision: 'deny', reason: 'unknown-key', appKey: 'k'.repeat(5000), startedAt: performance.now() });
    expect(String(logger.records[0]!.attributes.appKey)).toHaveLength(65);
  });

  it('logged: times a decision, logs its outcome with the identity, and logs and rethrows a failure', async () => {
    const { logger, debug, log } = setup();
    await expect(
      logged(log, { appKey: 'k' }, async () => ({
        result: 'answer',
        decision: 'deny',
        reason: 'unknown-key',
      })),
    ).resolves.toBe('answer');
    await expect(logged(log, { appId: 'a' }, async () => ({ result: 1, decision: 'allow' }))).resolves.toBe(
      1,
    );
    const failure = new Error('DynamoDB is down');
    await expect(logged(log, { appId: 'a' }, () => Promise.reject(failure))).rejects.toBe(failure);
    expect(debug).toMatchObject([{ attributes: { decision: 'allow', appId: 'a' } }]);
    expect(logger.records).toMatchObject([
      { level: 'info', attributes: { decision: 'deny', reason: 'unknown-key', appKey: 'k' } },
      { level: 'error', attributes: { decision: 'error', reason: 'Error: DynamoDB is down', appId: 'a' } },
    ]);
  });
});
