import { randomUUID } from 'node:crypto';
import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { FanOutDispatcher, FanOutJob, NotDispatched } from './fan-out-job.js';
import { laneGroupId } from './lanes.js';

// The fan-out queue: a FIFO queue whose message groups are the lanes, so that one lane's jobs run one after
// another in the order they were sent, and lanes (and cleanups, each a group of its own) side by side.

/** SQS's bounds on one SendMessageBatch: 10 entries, and the default message size for their bodies together. */
const BATCH_ENTRIES = 10;
const BATCH_BYTES = 262_144;

/** The message group of a job: its lane's, or one of its own for a cleanup, which keeps no order. */
export function messageGroupOf(job: FanOutJob): string {
  return job.kind === 'lane' ? laneGroupId(job.appId, job.channel, job.range) : `cleanup.${randomUUID()}`;
}

/**
 * Sends jobs to the fan-out queue, as few SendMessageBatch calls as the bounds allow, made at once (entries
 * of one call are of different lanes, so nothing orders the calls). Each entry has a deduplication id of its
 * own: the SDK's retry of a call that reached SQS does not send it twice.
 */
export function queueFanOutDispatcher(client: SQSClient, queueUrl: string): FanOutDispatcher {
  return {
    async dispatch(jobs) {
      const entries = jobs.map((job, index) => ({ job, id: String(index), body: JSON.stringify(job) }));
      const left = await Promise.all(
        batchesOf(entries).map(async (batch): Promise<NotDispatched[]> => {
          try {
            const { Failed = [] } = await client.send(
              new SendMessageBatchCommand({
                QueueUrl: queueUrl,
                Entries: batch.map((entry) => ({
                  Id: entry.id,
                  MessageBody: entry.body,
                  MessageGroupId: messageGroupOf(entry.job),
                  MessageDeduplicationId: randomUUID(),
                })),
              }),
            );
            const failed = new Map(Failed.map((failure) => [failure.Id, failure.Code ?? 'failed']));
            return batch
              .filter((entry) => failed.has(entry.id))
              .map((entry) => ({ job: entry.job, reason: failed.get(entry.id)! }));
          } catch (error) {
            return batch.map((entry) => ({ job: entry.job, reason: String(error) }));
          }
        }),
      );
      return left.flat();
    },
  };
}

function batchesOf<T extends { readonly body: string }>(entries: readonly T[]): T[][] {
  const batches: T[][] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = Buffer.byteLength(entry.body);
    const last = batches.at(-1);
    if (last === undefined || last.length === BATCH_ENTRIES || bytes + size > BATCH_BYTES) {
      batches.push([entry]);
      bytes = size;
    } else {
      last.push(entry);
      bytes += size;
    }
  }
  return batches;
}

/** Where the worker sets aside a job it could not finish, for an operator to replay. */
export interface FailedJobs {
  setAside(body: string, group: string, reason: string): Promise<void>;
}

/**
 * The fan-out failure queue (the fan-out queue's dead-letter queue): a job set aside keeps its message group,
 * so that a redrive to the fan-out queue replays each lane in order, and says why in its `reason` attribute.
 */
export function failureQueue(client: SQSClient, queueUrl: string): FailedJobs {
  return {
    async setAside(body, group, reason) {
      await client.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: body,
          MessageGroupId: group,
          MessageDeduplicationId: randomUUID(),
          MessageAttributes: { reason: { DataType: 'String', StringValue: reason.slice(0, 1_000) } },
        }),
      );
    },
  };
}
