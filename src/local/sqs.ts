import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createSqsServer } from 'local-aws-sqs';

/**
 * The local SQS (the embedded `local-aws-sqs` emulator, SDK v3's JSON protocol) with the webhook queues and
 * the fan-out queues (FIFO, as deployed).
 */
export interface LocalSqs {
  readonly endpoint: string;
  readonly client: SQSClient;
  readonly queues: {
    readonly webhooks: string;
    readonly webhooksArn: string;
    readonly webhookDeadLetters: string;
    readonly fanOut: string;
    readonly fanOutArn: string;
    readonly fanOutFailures: string;
  };
  close(): Promise<void>;
}

/**
 * How many times the local event source hands a record to the sender before the redrive policy moves it to
 * the dead-letter queue, as the deployed queue's `maxReceiveCount` does.
 */
export const LOCAL_MAX_RECEIVE_COUNT = 5;

/** Seconds a received message stays hidden: a failed record comes back after it, as on AWS. */
export const LOCAL_VISIBILITY_TIMEOUT_SECONDS = 30;

/** The fan-out queues' message size, as deployed: SQS's historical default, which a lane job never nears. */
const FAN_OUT_MESSAGE_BYTES = 262_144;

export async function startSqs(options: {
  readonly host: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
}): Promise<LocalSqs> {
  const server = (await createSqsServer({
    port: 0,
    hostname: options.host,
    region: options.region,
    emulateQueueCreationLifecycle: false,
  })) as Server;
  const endpoint = `http://${options.host}:${(server.address() as AddressInfo).port}`;
  const client = new SQSClient({ endpoint, region: options.region, credentials: options.credentials });
  const webhookDeadLetters = (
    await client.send(new CreateQueueCommand({ QueueName: 'webhook-dead-letters' }))
  ).QueueUrl!;
  const arnOf = async (url: string) =>
    (await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] })))
      .Attributes!.QueueArn!;
  const webhooks = (
    await client.send(
      new CreateQueueCommand({
        QueueName: 'webhooks',
        Attributes: {
          VisibilityTimeout: String(LOCAL_VISIBILITY_TIMEOUT_SECONDS),
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: await arnOf(webhookDeadLetters),
            maxReceiveCount: LOCAL_MAX_RECEIVE_COUNT,
          }),
        },
      }),
    )
  ).QueueUrl!;
  const fifo = {
    FifoQueue: 'true',
    DeduplicationScope: 'messageGroup',
    FifoThroughputLimit: 'perMessageGroupId',
    MaximumMessageSize: String(FAN_OUT_MESSAGE_BYTES),
  };
  const fanOutFailures = (
    await client.send(new CreateQueueCommand({ QueueName: 'fan-out-failures.fifo', Attributes: fifo }))
  ).QueueUrl!;
  const fanOut = (
    await client.send(
      new CreateQueueCommand({
        QueueName: 'fan-out.fifo',
        Attributes: {
          ...fifo,
          VisibilityTimeout: String(LOCAL_VISIBILITY_TIMEOUT_SECONDS),
          // As deployed: a record whose invocation failed comes back, up to five receives.
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: await arnOf(fanOutFailures),
            maxReceiveCount: LOCAL_MAX_RECEIVE_COUNT,
          }),
        },
      }),
    )
  ).QueueUrl!;
  return {
    endpoint,
    client,
    queues: {
      webhooks,
      webhooksArn: await arnOf(webhooks),
      webhookDeadLetters,
      fanOut,
      fanOutArn: await arnOf(fanOut),
      fanOutFailures,
    },
    async close() {
      client.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
