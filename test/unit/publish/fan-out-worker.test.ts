import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { GatewayContext } from '../../../src/gateway/context.js';
import type { FailedJobs } from '../../../src/publish/fan-out-queue.js';
import { fanOutRecords } from '../../../src/publish/fan-out-worker.js';
import { recordingLogger } from '../../support/recording-logger.js';

/** A record of the fan-out queue, as Lambda's SQS event source hands it over (FIFO attributes). */
function record(messageId: string, group: string, body: unknown): SQSRecord {
  return {
    messageId,
    receiptHandle: `handle-${messageId}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1',
      SenderId: 'sender',
      ApproximateFirstReceiveTimestamp: '1',
      MessageGroupId: group,
      MessageDeduplicationId: `dedup-${messageId}`,
      SequenceNumber: '1',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:fan-out.fifo',
    awsRegion: 'us-east-1',
  };
}

/** A cleanup of no connections: a valid job that touches nothing. */
const noCleanup = { kind: 'cleanup', appId: 'app', channel: 'crowd', connectionIds: [] };

function failureQueue(refusing: ReadonlySet<string> = new Set()) {
  const setAside: { body: string; group: string; reason: string }[] = [];
  const failed: FailedJobs = {
    async setAside(body, group, reason) {
      if (refusing.has(group)) throw new Error('SendMessage refused');
      setAside.push({ body, group, reason });
    },
  };
  return { failed, setAside };
}

describe('fanOutRecords', () => {
  it('sets an invalid job aside with its reason and its group, and reports nothing failed', async () => {
    const logger = recordingLogger();
    const context = { logger, now: () => Date.now() } as unknown as GatewayContext;
    const queue = failureQueue();
    const event: SQSEvent = {
      Records: [record('1', 'lane-a', 'not json'), record('2', 'lane-b', noCleanup)],
    };

    const answer = await fanOutRecords(context, event, { failed: queue.failed, remainingMs: () => 60_000 });

    expect(answer).toEqual({ batchItemFailures: [] });
    expect(queue.setAside).toEqual([{ body: 'not json', group: 'lane-a', reason: 'invalid fan-out job' }]);
    expect(logger.records).toContainEqual(
      expect.objectContaining({ level: 'error', message: 'invalid fan-out job' }),
    );
  });

  it('reports a record it could not set aside failed, with every later record of its group, and runs the others', async () => {
    const context = { logger: recordingLogger(), now: () => Date.now() } as unknown as GatewayContext;
    const queue = failureQueue(new Set(['lane-a']));
    const event: SQSEvent = {
      Records: [
        record('1', 'lane-a', { kind: 'broadcast' }),
        record('2', 'lane-b', { kind: 'broadcast' }),
        record('3', 'lane-a', noCleanup),
        record('4', 'lane-b', noCleanup),
      ],
    };

    const answer = await fanOutRecords(context, event, { failed: queue.failed, remainingMs: () => 60_000 });

    expect(answer.batchItemFailures).toEqual([{ itemIdentifier: '1' }, { itemIdentifier: '3' }]);
    expect(queue.setAside.map((entry) => entry.group)).toEqual(['lane-b']);
  });

  it('answers an invocation that is not the queue’s event with no failure and a log line, never an exception', async () => {
    const logger = recordingLogger();
    const context = { logger, now: () => Date.now() } as unknown as GatewayContext;
    const queue = failureQueue();
    const legacy = { appId: 'app', channel: 'crowd', connectionIds: ['A='] } as unknown as SQSEvent;

    expect(await fanOutRecords(context, legacy, { failed: queue.failed, remainingMs: () => 60_000 })).toEqual(
      {
        batchItemFailures: [],
      },
    );
    expect(logger.records).toMatchObject([
      { level: 'error', message: 'fan-out worker invoked without SQS records' },
    ]);
    expect(queue.setAside).toEqual([]);
  });
});
