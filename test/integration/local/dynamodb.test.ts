import { randomUUID } from 'node:crypto';
import { DescribeTableCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { parseAppItem } from '../../../src/apps/parse-item.js';
import { appsTableDefinition } from '../../../src/apps/table-schema.js';
import { DEFAULT_APP_LIMITS } from '../../../src/config/config.js';
import { ensureTables, seedDemoApp, startDynamo } from '../../../src/local/dynamodb.js';
import { stateTableDefinition } from '../../../src/state/table-schema.js';
import { dynamodbEndpoint, testClient } from '../../support/dynamodb.js';

const client = testClient();
const demo = { id: 'app-id', key: 'app-key', secret: 'app-secret', enableClientMessages: true };

describe('local DynamoDB setup', () => {
  it('creates both tables from the src/ definitions, and leaves existing ones alone', async () => {
    const tables = { apps: `apps-${randomUUID()}`, state: `state-${randomUUID()}` };

    await ensureTables(client, tables);
    await seedDemoApp(client, tables.apps, demo, DEFAULT_APP_LIMITS);
    await ensureTables(client, tables);

    const apps = (await client.send(new DescribeTableCommand({ TableName: tables.apps }))).Table!;
    const state = (await client.send(new DescribeTableCommand({ TableName: tables.state }))).Table!;
    expect(apps.KeySchema).toEqual(appsTableDefinition(tables.apps).KeySchema);
    expect(apps.GlobalSecondaryIndexes?.map((index) => index.IndexName)).toEqual(['AppKeyIndex']);
    const kept = await client.send(
      new GetItemCommand({ TableName: tables.apps, Key: { AppId: { S: demo.id } } }),
    );
    expect(kept.Item?.AppKey).toEqual({ S: demo.key });
    expect(state.KeySchema).toEqual(stateTableDefinition(tables.state).KeySchema);
  });

  it('writes the demo app with BOOL booleans and N numbers, as the resolver reads it, replacing an older one', async () => {
    const tables = { apps: `apps-${randomUUID()}`, state: `state-${randomUUID()}` };
    await ensureTables(client, tables);
    const limits = { ...DEFAULT_APP_LIMITS, maxEventBatchSize: 3 };

    await seedDemoApp(client, tables.apps, { ...demo, secret: 'old' }, limits);
    await seedDemoApp(client, tables.apps, demo, limits);

    const { Item } = await client.send(
      new GetItemCommand({ TableName: tables.apps, Key: { AppId: { S: 'app-id' } } }),
    );
    expect(Item?.Enabled).toEqual({ BOOL: true });
    expect(Item?.EnableClientMessages).toEqual({ BOOL: true });
    expect(Item?.MaxConnections).toEqual({ N: '-1' });
    expect(Item?.MaxEventBatchSize).toEqual({ N: '3' });
    expect(parseAppItem(Item!)).toMatchObject({
      id: 'app-id',
      key: 'app-key',
      secret: 'app-secret',
      enabled: true,
    });
  });

  it('uses an outside endpoint as it is, and runs dynalite only without one', async () => {
    const outside = await startDynamo({ endpoint: dynamodbEndpoint(), persistDir: undefined });
    const embedded = await startDynamo({ endpoint: undefined, persistDir: undefined });
    try {
      expect(outside).toMatchObject({ endpoint: dynamodbEndpoint(), embedded: false });
      expect(embedded.embedded).toBe(true);
      expect(embedded.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const local = testClient({ endpoint: embedded.endpoint });
      await ensureTables(local, { apps: 'apps', state: 'state' });
      local.destroy();
    } finally {
      await embedded.close();
      await outside.close();
    }
  });
});
