// The cold-start baseline: a Lambda that only imports the DynamoDB client, creates it at module scope and
// answers one event with a GetItem, bundled exactly as the project's handlers are.
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';

const client = new DynamoDBClient({});

export const handler = async (event: { table: string; id: string }) => {
  const { Item } = await client.send(
    new GetItemCommand({ TableName: event.table, Key: { AppId: { S: event.id } } }),
  );
  return { found: Item !== undefined };
};
