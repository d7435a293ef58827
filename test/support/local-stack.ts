import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import type { App } from '../../src/apps/app.js';
import { toAppItem } from '../../src/apps/parse-item.js';
import { type LocalStack, offlineLogFile, startLocalStack } from '../../src/local/stack.js';

/** Bundling the handlers and starting serverless offline takes seconds, more on a busy shared machine. */
const STACK_START_TIMEOUT_MS = 120_000;
const STACK_STOP_TIMEOUT_MS = 30_000;

export interface StackUnderTest {
  /** The running stack; only valid inside tests, after `beforeAll`. */
  readonly stack: LocalStack;
  /** Where serverless offline writes its output: the handlers' logs, for a failing test's message. */
  readonly log: string;
}

export interface UseLocalStackOptions {
  /** The stack's environment (see `LocalStackOptions.env`), e.g. `{ ...process.env, WEBHOOKS_BATCHING: 'true' }`. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * One local stack for the calling test file: started in `beforeAll` with `apps` written to its apps
 * table next to the demo app, stopped in `afterAll` whatever happened.
 */
export function useLocalStack(
  name: string,
  apps: readonly App[] = [],
  options: UseLocalStackOptions = {},
): StackUnderTest {
  const log = offlineLogFile(name);
  let started: LocalStack | undefined;
  beforeAll(async () => {
    started = await startLocalStack({ port: 0, offlineOutput: log, env: options.env });
    await seedApps(started, apps);
  }, STACK_START_TIMEOUT_MS);
  afterAll(async () => {
    await started?.stop();
  }, STACK_STOP_TIMEOUT_MS);
  return {
    get stack() {
      if (!started) throw new Error(`the local stack for ${name} is not running (see ${log})`);
      return started;
    },
    log,
  };
}

/** A client of the stack's DynamoDB; the caller destroys it. */
export function stackClient(stack: LocalStack): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: stack.urls.dynamodb,
    region: process.env.AWS_REGION ?? 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/** Writes apps straight into the stack's apps table, as the apps CLI would. */
export async function seedApps(stack: LocalStack, apps: readonly App[]): Promise<void> {
  const client = stackClient(stack);
  try {
    for (const app of apps) {
      await client.send(new PutItemCommand({ TableName: stack.tables.apps, Item: toAppItem(app) }));
    }
  } finally {
    client.destroy();
  }
}
