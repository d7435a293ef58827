import { randomUUID } from 'node:crypto';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DeleteTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { appsTableDefinition } from '../../src/apps/table-schema.js';
import type { StateTable } from '../../src/state/table.js';
import { stateTableDefinition } from '../../src/state/table-schema.js';

/** The embedded dynalite started by the global setup. */
export function dynamodbEndpoint(): string {
  return inject('dynamodbEndpoint');
}

export function testClient(config: DynamoDBClientConfig = {}): DynamoDBClient {
  return new DynamoDBClient({
    region: 'us-east-1',
    endpoint: dynamodbEndpoint(),
    credentials: { accessKeyId: 'fake', secretAccessKey: 'fake' },
    maxAttempts: 1,
    ...config,
  });
}

/** Counts the DynamoDB operations a client sends, by command name, via an SDK middleware. */
export interface CallCounter {
  readonly calls: Map<string, number>;
  total(): number;
  count(command: string): number;
  reset(): void;
}

export function countCalls(client: DynamoDBClient): CallCounter {
  const calls = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => (args) => {
      const name = context.commandName ?? 'unknown';
      calls.set(name, (calls.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'testCallCounter' },
  );
  return {
    calls,
    total: () => [...calls.values()].reduce((sum, n) => sum + n, 0),
    count: (command) => calls.get(command) ?? 0,
    reset: () => calls.clear(),
  };
}

export interface TestTable {
  readonly name: string;
  drop(): Promise<void>;
}

/** Creates a table and waits until it is ACTIVE: dynalite answers "not found" for a moment even with createTableMs 0. */
export async function createTable(
  client: DynamoDBClient,
  definition: CreateTableCommandInput,
): Promise<TestTable> {
  await client.send(new CreateTableCommand(definition));
  const name = definition.TableName!;
  await waitUntilTableExists(
    { client, maxWaitTime: 10, minDelay: 0.01, maxDelay: 0.05 },
    { TableName: name },
  );
  return { name, drop: async () => void (await client.send(new DeleteTableCommand({ TableName: name }))) };
}

/** A fresh apps table with soketi's schema and a unique name, so test files never share state. */
export function createAppsTable(client: DynamoDBClient, prefix = 'apps'): Promise<TestTable> {
  return createTable(client, appsTableDefinition(`${prefix}-${randomUUID()}`));
}

export function createStateTable(client: DynamoDBClient, prefix = 'state'): Promise<TestTable> {
  return createTable(client, stateTableDefinition(`${prefix}-${randomUUID()}`));
}

/** A fresh state table with a client of its own, as the state functions take it; `drop` ends both. */
export async function stateTestTable(
  prefix: string,
): Promise<{ readonly state: StateTable; drop(): Promise<void> }> {
  const client = testClient();
  const table = await createStateTable(client, prefix);
  return {
    state: { client, tableName: table.name },
    drop: async () => {
      await table.drop();
      client.destroy();
    },
  };
}
