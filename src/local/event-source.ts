import { createHash } from 'node:crypto';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';

export interface EventSourceOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly region: string;
  /** serverless offline's Lambda port, and the function to hand each batch to. */
  readonly lambda: LambdaClient;
  readonly functionName: string;
  /** As the event source mapping's `MaximumBatchingWindowInSeconds`: how long a batch gathers. */
  readonly batchingWindowMs: number;
  /** As the mapping's `BatchSize`: the most records an invocation gets (10 by default). */
  readonly batchSize?: number;
  /** Where failures of the event source itself are reported. */
  readonly onError: (error: unknown) => void;
}

export interface EventSource {
  stop(): Promise<void>;
}

/** SQS's largest batch for one invocation of an event source with no batching window. */
const MAX_BATCH_SIZE = 10;

/**
 * The local stand-in for an SQS event source mapping: it polls the queue, hands each batch to the function
 * through serverless offline's Lambda port as the SQS event AWS documents, and deletes the records the
 * function did not report in `batchItemFailures`. Reported records (and a batch whose invocation failed)
 * stay, and come back after the visibility timeout; the queue's redrive policy then counts them. One batch at
 * a time, each deleted before the next is received: a FIFO queue's groups keep their order (the emulator
 * does not hold a group back while one of its messages is in flight, as SQS does).
 */
export function startEventSource(options: EventSourceOptions): EventSource {
  let stopping = false;
  const abort = new AbortController();
  const loop = (async () => {
    while (!stopping) {
      try {
        const messages = await receiveBatch(options, abort.signal);
        if (messages.length > 0) await deliver(options, messages);
      } catch (error) {
        if (stopping) break;
        options.onError(error);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  })();
  return {
    async stop() {
      stopping = true;
      abort.abort();
      await loop;
    },
  };
}

/**
 * One batch as the event source would gather it: a long poll for the first message (the emulator answers a
 * long poll at once only when asked for one), then, after the batching window, what else is waiting.
 */
async function receiveBatch(options: EventSourceOptions, signal: AbortSignal): Promise<Message[]> {
  const receive = async (max: number, waitSeconds: number) =>
    (
      await options.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: options.queueUrl,
          MaxNumberOfMessages: max,
          WaitTimeSeconds: waitSeconds,
          AttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
        { abortSignal: signal },
      )
    ).Messages ?? [];
  const first = await receive(1, 1);
  if (first.length === 0) return [];
  if (options.batchingWindowMs > 0)
    await new Promise((resolve) => setTimeout(resolve, options.batchingWindowMs));
  const batchSize = options.batchSize ?? MAX_BATCH_SIZE;
  return batchSize === 1 ? first : [...first, ...(await receive(batchSize - 1, 0))];
}

async function deliver(options: EventSourceOptions, messages: readonly Message[]): Promise<void> {
  const records = messages.map((message) => recordOf(options, message));
  const output = await options.lambda.send(
    new InvokeCommand({
      FunctionName: options.functionName,
      InvocationType: 'RequestResponse',
      Payload: new TextEncoder().encode(JSON.stringify({ Records: records })),
    }),
  );
  if (output.FunctionError !== undefined) {
    throw new Error(`${options.functionName} failed (${output.FunctionError}); its batch comes back later`);
  }
  const answer = JSON.parse(
    new TextDecoder().decode(output.Payload ?? new Uint8Array()),
  ) as SQSBatchResponse | null;
  const failed = new Set((answer?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
  const done = messages.filter((message) => !failed.has(message.MessageId!));
  if (done.length === 0) return;
  await options.sqs.send(
    new DeleteMessageBatchCommand({
      QueueUrl: options.queueUrl,
      Entries: done.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })),
    }),
  );
}

/** A message as an SQS event record, in the shape AWS documents for Lambda's SQS event source. */
function recordOf(options: EventSourceOptions, message: Message): SQSRecord {
  const body = message.Body ?? '';
  const now = String(Date.now());
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body,
    attributes: {
      ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1',
      SentTimestamp: message.Attributes?.SentTimestamp ?? now,
      SenderId: message.Attributes?.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: message.Attributes?.ApproximateFirstReceiveTimestamp ?? now,
      ...fifoAttributes(message),
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? createHash('md5').update(body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: options.queueArn,
    awsRegion: options.region,
  };
}

/** A FIFO queue's record attributes, as the event source passes them on. */
function fifoAttributes(message: Message): Partial<SQSRecord['attributes']> {
  const { MessageGroupId, MessageDeduplicationId, SequenceNumber } = message.Attributes ?? {};
  return {
    ...(MessageGroupId === undefined ? {} : { MessageGroupId }),
    ...(MessageDeduplicationId === undefined ? {} : { MessageDeduplicationId }),
    ...(SequenceNumber === undefined ? {} : { SequenceNumber }),
  };
}
