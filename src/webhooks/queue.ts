import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** One message to enqueue: its JSON body and, for a departure or a retry, how long SQS holds it back. */
export interface QueueEntry {
  readonly body: string;
  /** 0 to 900 seconds (SQS standard queues; FIFO queues have no per-message delay). */
  readonly delaySeconds?: number;
}

/** Where webhook messages go: the webhook queue, or its dead-letter queue. */
export interface WebhookQueue {
  /** Sends the entries; resolves with how many SQS refused, rejects when the call itself failed. */
  send(entries: readonly QueueEntry[]): Promise<{ readonly failed: number }>;
}

/** SQS's limits on one `SendMessageBatch`: 10 entries and 256 KiB for all of them together. */
export const SQS_BATCH_ENTRIES = 10;
export const SQS_BATCH_BYTES = 256 * 1024;
export const SQS_MAX_DELAY_SECONDS = 900;

/**
 * Items in order, in as few groups as the limits allow: each group at most `maxCount` items and `maxBytes`
 * in all (an item larger than `maxBytes` goes alone).
 */
export function packed<Item>(
  items: readonly Item[],
  bytesOf: (item: Item) => number,
  maxBytes: number,
  maxCount = Number.POSITIVE_INFINITY,
): Item[][] {
  const groups: Item[][] = [];
  let current: Item[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = bytesOf(item);
    if (current.length === maxCount || (current.length > 0 && bytes + size > maxBytes)) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/** The entries in as few `SendMessageBatch` calls as SQS allows: 10 entries and 256 KiB each. */
export function batchesOf(entries: readonly QueueEntry[]): QueueEntry[][] {
  return packed(
    entries,
    (entry) => Buffer.byteLength(entry.body, 'utf8'),
    SQS_BATCH_BYTES,
    SQS_BATCH_ENTRIES,
  );
}

export function sqsQueue(client: SQSClient, queueUrl: string): WebhookQueue {
  return {
    async send(entries) {
      let failed = 0;
      for (const batch of batchesOf(entries)) {
        const output = await client.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: batch.map((entry, index) => ({
              Id: String(index),
              MessageBody: entry.body,
              ...(entry.delaySeconds ? { DelaySeconds: entry.delaySeconds } : {}),
            })),
          }),
        );
        failed += output.Failed?.length ?? 0;
      }
      return { failed };
    },
  };
}
