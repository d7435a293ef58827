import { describe, expect, it } from 'vitest';
import { OutageLog } from '../../../src/limits/outage-log.js';
import type { StructuredLogger } from '../../../src/observability/logger.js';

function recorder() {
  const lines: { level: 'warn' | 'info' | 'error'; message: string; details: Record<string, unknown> }[] = [];
  const logger: StructuredLogger = {
    warn: (message, details) => lines.push({ level: 'warn', message, details }),
    info: (message, details) => lines.push({ level: 'info', message, details }),
    error: (message, details) => lines.push({ level: 'error', message, details }),
  };
  return { lines, logger };
}

describe('OutageLog', () => {
  it('warns at most once per interval, counting the failures in between', () => {
    const { lines, logger } = recorder();
    const log = new OutageLog(logger, 'state', 60_000);
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });

    log.failed(0, 'app-1', 'backend-events', throttled);
    log.failed(1_000, 'app-2', 'read-requests', throttled);
    log.failed(59_999, 'app-1', 'backend-events', throttled);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'warn',
      details: {
        tableName: 'state',
        appId: 'app-1',
        kind: 'backend-events',
        error: 'ThrottlingException: Rate exceeded',
        failuresSinceLastWarning: 1,
      },
    });

    log.failed(60_000, 'app-3', 'backend-events', 'socket hang up');
    expect(lines).toHaveLength(2);
    expect(lines[1]!.details).toMatchObject({
      appId: 'app-3',
      error: 'socket hang up',
      failuresSinceLastWarning: 3,
    });
  });

  it('reports a recovery once after each warning, and never without one', () => {
    const { lines, logger } = recorder();
    const log = new OutageLog(logger, 'state', 60_000);
    log.recovered('app-1', 'backend-events');
    expect(lines).toHaveLength(0);

    log.failed(0, 'app-1', 'backend-events', new Error('down'));
    log.recovered('app-1', 'backend-events');
    log.recovered('app-2', 'backend-events');
    expect(lines.map(({ level }) => level)).toEqual(['warn', 'info']);
    expect(lines[1]!.details).toEqual({ tableName: 'state', appId: 'app-1', kind: 'backend-events' });

    // A failure inside the interval is not logged, so neither is the recovery from it.
    log.failed(1_000, 'app-1', 'backend-events', new Error('down'));
    log.recovered('app-1', 'backend-events');
    expect(lines).toHaveLength(2);
  });
});
