// The cold-start baseline for a Lambda that posts to WebSocket connections: the DynamoDB and API Gateway
// Management clients, created at module scope, one GetItem and one PostToConnection per event.
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';

const dynamodb = new DynamoDBClient({});
const connections = new ApiGatewayManagementApiClient({ endpoint: process.env.WEBSOCKET_API_ENDPOINT });

export const handler = async (event: { table: string; id: string }) => {
  const { Item } = await dynamodb.send(
    new GetItemCommand({ TableName: event.table, Key: { AppId: { S: event.id } } }),
  );
  await connections.send(new PostToConnectionCommand({ ConnectionId: 'baseline', Data: '{}' }));
  return { found: Item !== undefined };
};
