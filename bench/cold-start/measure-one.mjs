// Runs in a fresh `node` process per sample: loads one bundle, answers one event, prints the timings as JSON.
// Plain JavaScript on purpose, so no TypeScript loader stands between Node and the bundle being measured.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [bundle, eventFile] = process.argv.slice(2);
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
const context = {
  functionName: 'cold-start',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:cold-start',
  memoryLimitInMB: '512',
  awsRequestId: '00000000-0000-4000-8000-000000000000',
  logGroupName: '/aws/lambda/cold-start',
  logStreamName: 'cold-start',
  getRemainingTimeInMillis: () => 10_000,
};

const started = performance.now();
const { handler } = await import(pathToFileURL(bundle).href);
const loaded = performance.now();
const result = await handler(event, context);
const answered = performance.now();
process.stdout.write(
  `${JSON.stringify({ loadMs: loaded - started, invokeMs: answered - loaded, ok: result !== undefined })}\n`,
);
