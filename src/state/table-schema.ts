import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/** Attribute holding the epoch second after which DynamoDB's TTL sweeper may delete an item. */
export const STATE_TTL_ATTRIBUTE = 'expiresAt';

/**
 * The state table holds everything that must be shared across Lambda containers (rate-limit windows;
 * WebSocket connections, subscriptions, presence members, signed-in users, channel counts and the
 * MaxConnections counter, see `keys.ts`): one generic `pk`/`sk` layout, each concern owning its key
 * prefix, with TTL on `expiresAt`. Every access is by key or by one partition, so no index is needed.
 */
export function stateTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
  };
}
