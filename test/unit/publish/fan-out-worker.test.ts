import { describe, expect, it } from 'vitest';
import type { GatewayContext } from '../../../src/gateway/context.js';
import { fanOutInvocation } from '../../../src/publish/fan-out-worker.js';
import { recordingLogger } from '../../support/recording-logger.js';

describe('fanOutInvocation', () => {
  it('answers an invalid job with "invalid" and a log line, never an exception Lambda would retry', async () => {
    const logger = recordingLogger();
    const context = { logger } as unknown as GatewayContext;
    await expect(fanOutInvocation(context, { appId: 'app' }, { remainingMs: 60_000 })).resolves.toBe(
      'invalid',
    );
    expect(logger.records).toMatchObject([{ level: 'error', message: 'invalid fan-out job' }]);
  });
});
