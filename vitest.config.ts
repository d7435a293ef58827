import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The JSON report feeds .ci/run's closing 'N passed, N failed' line.
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-report.json' },
    globalSetup: ['test/support/global-setup.ts'],
    // No test may reach AWS: fake credentials and no instance metadata lookups.
    env: {
      AWS_ACCESS_KEY_ID: 'fake',
      AWS_SECRET_ACCESS_KEY: 'fake',
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
      POWERTOOLS_DEV: 'false',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    },
    // One file at a time: the end-to-end files start a whole local stack and the rate-limit measurement runs on
    // the real clock; side by side on a 2-core machine they starve each other and the measurement lies.
    fileParallelism: false,
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
