import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';

/**
 * Starts a Lambda without waiting for it (`InvocationType: 'Event'`): Lambda queues the payload and answers
 * at once; what the function does is its own business, including its failures.
 */
export async function invokeAsynchronously(
  client: LambdaClient,
  functionName: string,
  payload: unknown,
): Promise<void> {
  await client.send(
    new InvokeCommand({
      FunctionName: functionName,
      InvocationType: 'Event',
      Payload: Buffer.from(JSON.stringify(payload)),
    }),
  );
}
