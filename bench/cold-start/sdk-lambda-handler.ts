// The cold-start baseline for a Lambda that also invokes another Lambda: the DynamoDB and Lambda clients,
// created at module scope, one GetItem and one asynchronous Invoke per event.
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';

const dynamodb = new DynamoDBClient({});
const lambda = new LambdaClient({});

export const handler = async (event: { table: string; id: string }) => {
  const { Item } = await dynamodb.send(
    new GetItemCommand({ TableName: event.table, Key: { AppId: { S: event.id } } }),
  );
  await lambda.send(new InvokeCommand({ FunctionName: 'baseline', InvocationType: 'Event', Payload: '{}' }));
  return { found: Item !== undefined };
};
