import { describe, expect, it } from 'vitest';
import { createDecisionLog } from '../../../src/authorizers/decision-log.js';
import { recordingLogger } from '../../support/recording-logger.js';

function setup() {
  const logger = recordingLogger();
  const debug: { message: string; attributes: Record<string, unknown> }[] = [];
  let clock = 0;
  const log = createDecisionLog(
    { ...logger, debug: (message, attributes) => void debug.push({ message, attributes }) },
    { stats: () => ({ hits: 7 }), statsIntervalMs: 60_000, now: () => clock },
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
      { level: 'info', attributes: { decision: 'deny', reason: 'unknown-key', cache: { hits: 7 } } },
      { level: 'error', attributes: { decision: 'error', cache: { hits: 7 } } },
    ]);
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
        attributes: { decisions: { allow: 3, deny: 0, error: 0 }, cache: { hits: 7 } },
      },
    ]);
  });
});
