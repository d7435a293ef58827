import { Logger, LogLevelThreshold } from '@aws-lambda-powertools/logger';
import type { Request } from '@middy/core';
import { describe, expect, it } from 'vitest';
import { lambdaContextLogging } from '../../../src/observability/logger.js';
import { capturedStdout } from '../../support/handler-env.js';
import { lambdaContext } from '../../support/lambda-context.js';

const invocation = () =>
  ({ event: {}, context: lambdaContext('logged'), response: null, error: null, internal: {} }) as Request;

describe('lambdaContextLogging', () => {
  it('adds the Lambda context to every line of the invocation', async () => {
    const logger = new Logger({ serviceName: 'test', logLevel: 'INFO' });
    const before = lambdaContextLogging(logger, {}).before!;
    const output = await capturedStdout(async () => {
      await before(invocation());
      logger.info('hello', {});
    });
    expect(JSON.parse(output)).toMatchObject({
      message: 'hello',
      function_name: 'logged',
      function_request_id: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
      cold_start: expect.any(Boolean),
    });
  });

  it('re-draws debug sampling per invocation only when a sample rate is configured', async () => {
    const sampled = new Logger({ serviceName: 'test', logLevel: 'INFO', sampleRateValue: 1 });
    const plain = new Logger({ serviceName: 'test', logLevel: 'INFO', sampleRateValue: 1 });
    // Construction already drew once (DEBUG for a rate of 1); start both from INFO to see what a draw does.
    sampled.setLogLevel('INFO');
    plain.setLogLevel('INFO');
    const withRate = lambdaContextLogging(sampled, { POWERTOOLS_LOGGER_SAMPLE_RATE: '1' }).before!;
    const withoutRate = lambdaContextLogging(plain, {}).before!;
    await capturedStdout(async () => {
      for (let i = 0; i < 3; i++) {
        await withRate(invocation());
        await withoutRate(invocation());
      }
    });
    expect(sampled.level).toBe(LogLevelThreshold.DEBUG);
    expect(plain.level).toBe(LogLevelThreshold.INFO);
  });
});
