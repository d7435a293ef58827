import type { Context } from 'aws-lambda';

/**
 * A Lambda context as the runtime passes it, for driving handlers in-process. Its remaining time counts down
 * from `remainingMs` (default: a 10 s timeout) as the invocation runs.
 */
export function lambdaContext(functionName = 'test-function', remainingMs = 10_000): Context {
  const timesOutAt = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2026/11/26/[$LATEST]abcdef',
    getRemainingTimeInMillis: () => Math.max(0, timesOutAt - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
