// The cold-start baseline for the HTTP API routes, which use three AWS clients: DynamoDB, API Gateway
// Management (posts) and Lambda (fan-out jobs), created at module scope, one call of each per event.
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';

const dynamodb = new DynamoDBClient({});
const connections = new ApiGatewayManagementApiClient({ endpoint: process.env.WEBSOCKET_API_ENDPOINT });
const lambda = new LambdaClient({});

export const handler = async (event: { table: string; id: string }) => {
  const { Item } = await dynamodb.send(
    new GetItemCommand({ TableName: event.table, Key: { AppId: { S: event.id } } }),
  );
  await connections.send(new PostToConnectionCommand({ ConnectionId: 'baseline', Data: '{}' }));
  await lambda.send(new InvokeCommand({ FunctionName: 'baseline', InvocationType: 'Event', Payload: '{}' }));
  return { found: Item !== undefined };
};
