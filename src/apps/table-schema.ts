import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/** The GSI name is fixed by soketi's schema. */
export const APP_KEY_INDEX = 'AppKeyIndex';

/** soketi's documented apps table: hash key `AppId`, GSI `AppKeyIndex` on `AppKey`, projection ALL. */
export function appsTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'AppId', AttributeType: 'S' },
      { AttributeName: 'AppKey', AttributeType: 'S' },
    ],
    KeySchema: [{ AttributeName: 'AppId', KeyType: 'HASH' }],
    GlobalSecondaryIndexes: [
      {
        IndexName: APP_KEY_INDEX,
        KeySchema: [{ AttributeName: 'AppKey', KeyType: 'HASH' }],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}
