import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalSqs, startSqs } from '../../../src/local/sqs.js';
import type { FanOutJob, FanOutLaneJob } from '../../../src/publish/fan-out-job.js';
import { queueFanOutDispatcher } from '../../../src/publish/fan-out-queue.js';
import { laneGroupId, laneRanges } from '../../../src/publish/lanes.js';
import { type AwsJsonProxy, startSqsProxy } from '../../support/aws-json-proxy.js';

const CREDENTIALS = { accessKeyId: 'q', secretAccessKey: 'q' };
let sqs: LocalSqs;
let proxy: AwsJsonProxy;

beforeAll(async () => {
  sqs = await startSqs({
    host: '127.0.0.1',
    region: 'us-east-1',
    credentials: CREDENTIALS,
  });
  proxy = await startSqsProxy(sqs.endpoint);
});

afterAll(async () => {
  await proxy.close();
  await sqs.close();
});

const lanesOf = (event: string, data: string): FanOutLaneJob[] =>
  laneRanges(10).map((range) => ({
    kind: 'lane',
    appId: 'app',
    channel: 'crowd',
    frame: { event, channel: 'crowd', data },
    range,
    pageSize: 1_000,
  }));

/** Everything in the fan-out queue, received (and so hidden) once. */
async function drained(): Promise<{ group: string; job: FanOutJob }[]> {
  const received: { group: string; job: FanOutJob }[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.client.send(
      new ReceiveMessageCommand({
        QueueUrl: sqs.queues.fanOut,
        MaxNumberOfMessages: 10,
        AttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) return received;
    for (const message of Messages) {
      received.push({
        group: message.Attributes!.MessageGroupId!,
        job: JSON.parse(message.Body!) as FanOutJob,
      });
    }
  }
}

describe('queueFanOutDispatcher', () => {
  it('sends one event’s lanes in as few batches as 10 entries and 256 KiB allow, each in its lane’s message group, in the order dispatched', async () => {
    const client = new SQSClient({ endpoint: proxy.endpoint, region: 'us-east-1', credentials: CREDENTIALS });
    const dispatcher = queueFanOutDispatcher(client, sqs.queues.fanOut);
    // A 100 KB frame: two lanes' jobs fill a batch.
    const large = 'x'.repeat(100_000);
    proxy.resetCounts();

    expect(await dispatcher.dispatch(lanesOf('small', 'd'))).toEqual([]);
    expect(proxy.count('SendMessageBatch')).toBe(1);
    expect(await dispatcher.dispatch(lanesOf('large', large))).toEqual([]);
    expect(proxy.count('SendMessageBatch')).toBe(1 + 5);
    client.destroy();

    const received = await drained();
    expect(received).toHaveLength(20);
    for (const range of laneRanges(10)) {
      const group = laneGroupId('app', 'crowd', range);
      const ofLane = received.filter((message) => message.group === group);
      expect(ofLane.map(({ job }) => job.kind === 'lane' && [job.frame.event, job.range])).toEqual([
        ['small', range],
        ['large', range],
      ]);
    }
  });

  it('answers the jobs SQS refuses, and why, and sends the others', async () => {
    const dispatcher = queueFanOutDispatcher(sqs.client, sqs.queues.fanOut);
    // Over the queue's 256 KiB message size: refused as an entry of the batch, not the whole call.
    const [refused, ...others] = lanesOf('e', 'd');
    const tooLarge = { ...refused!, frame: { ...refused!.frame, data: 'x'.repeat(300_000) } };

    const left = await dispatcher.dispatch([tooLarge, ...others]);

    expect(left.map(({ job }) => job.kind === 'lane' && job.range)).toEqual([tooLarge.range]);
    expect(left[0]!.reason).not.toBe('');
    expect((await drained()).map(({ job }) => job.kind === 'lane' && job.range)).toEqual(
      others.map((job) => job.range),
    );
  });
});
