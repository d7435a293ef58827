import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DynamoDBClient,
  PutItemCommand,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { parseAppItem, toAppItem } from '../apps/parse-item.js';
import { appsTableDefinition } from '../apps/table-schema.js';
import type { AppLimitDefaults } from '../config/config.js';
import { stateTableDefinition } from '../state/table-schema.js';
import { listen } from './net.js';

export interface LocalDynamo {
  readonly endpoint: string;
  /** True when this process runs the emulator (dynalite), false for an outside endpoint. */
  readonly embedded: boolean;
  close(): Promise<void>;
}

/**
 * An outside endpoint when one is given (DynamoDB Local, another dynalite), otherwise dynalite in this
 * process on a random loopback port: in memory, or on disk under `persistDir`.
 */
export async function startDynamo(options: {
  endpoint: string | undefined;
  persistDir: string | undefined;
}): Promise<LocalDynamo> {
  if (options.endpoint) return { endpoint: options.endpoint, embedded: false, close: async () => {} };
  if (options.persistDir) await mkdir(options.persistDir, { recursive: true });
  const server: Server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.persistDir && { path: options.persistDir }),
  });
  const port = await listen(server, '127.0.0.1', 0);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    embedded: true,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export function localClient(
  endpoint: string,
  region: string,
  credentials: { accessKeyId: string; secretAccessKey: string },
): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region, credentials, maxAttempts: 2 });
}

/**
 * Creates both tables from the src/ definitions; a table that already exists is kept as it is. TTL stays
 * off: dynalite implements neither UpdateTimeToLive nor expiry, and a local run is short.
 */
export async function ensureTables(
  client: DynamoDBClient,
  tables: { readonly apps: string; readonly state: string },
): Promise<void> {
  await createIfMissing(client, appsTableDefinition(tables.apps));
  await createIfMissing(client, stateTableDefinition(tables.state));
}

async function createIfMissing(client: DynamoDBClient, definition: CreateTableCommandInput): Promise<void> {
  try {
    await client.send(new CreateTableCommand(definition));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
}

export interface DemoApp {
  readonly id: string;
  readonly key: string;
  readonly secret: string;
  readonly enableClientMessages: boolean;
}

/**
 * Writes the demo app, replacing an earlier version so that it always matches the settings it was started
 * with. The item is the canonical one the apps CLI writes (`toAppItem`), every limit at the server default.
 */
export async function seedDemoApp(
  client: DynamoDBClient,
  table: string,
  demo: DemoApp,
  limitDefaults: AppLimitDefaults,
): Promise<void> {
  const app = parseAppItem(
    {
      AppId: { S: demo.id },
      AppKey: { S: demo.key },
      AppSecret: { S: demo.secret },
      EnableClientMessages: { BOOL: demo.enableClientMessages },
    },
    limitDefaults,
  );
  await client.send(new PutItemCommand({ TableName: table, Item: toAppItem(app) }));
}
