import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { stateKeys } from './keys.js';
import { expiresAt, queryAll, type StateTable } from './table.js';

/** Records that the connection is signed in as the user (what terminate_connections looks up). */
export async function putUserConnection(
  table: StateTable,
  appId: string,
  userId: string,
  connectionId: string,
  nowMs: number,
): Promise<void> {
  await table.client.send(
    new PutItemCommand({
      TableName: table.tableName,
      Item: {
        ...stateKeys.userConnection(appId, userId, connectionId),
        expiresAt: { N: String(expiresAt(nowMs)) },
      },
    }),
  );
}

export async function deleteUserConnection(
  table: StateTable,
  appId: string,
  userId: string,
  connectionId: string,
): Promise<void> {
  await table.client.send(
    new DeleteItemCommand({
      TableName: table.tableName,
      Key: stateKeys.userConnection(appId, userId, connectionId),
    }),
  );
}

/** The connections signed in as the user. */
export async function userConnectionIds(table: StateTable, appId: string, userId: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const item of queryAll(table, {
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': { S: stateKeys.userPartition(appId, userId) } },
    ProjectionExpression: 'sk',
  })) {
    if (item.sk?.S) ids.push(item.sk.S);
  }
  return ids;
}
