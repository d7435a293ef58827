import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forEachLimited } from '../../../src/gateway/concurrency.js';
import type { GatewayContext } from '../../../src/gateway/context.js';
import type { FanOutLaneJob } from '../../../src/publish/fan-out-job.js';
import type { FailedJobs } from '../../../src/publish/fan-out-queue.js';
import { fanOutRecords, WORKER_RESERVE_MS } from '../../../src/publish/fan-out-worker.js';
import { putSubscriber } from '../../../src/state/channels.js';
import type { StateTable } from '../../../src/state/table.js';
import type { ConnectionsApiStandIn } from '../../fixtures/gateway/connections-api.js';
import { startTestGateway, type TestGateway } from '../../fixtures/gateway/test-gateway.js';
import { type AwsJsonProxy, DYNAMODB_FAULTS, startDynamoDbProxy } from '../../support/aws-json-proxy.js';
import { dynamodbEndpoint } from '../../support/dynamodb.js';
import { newConnectionId } from '../../support/events.js';

const SUBSCRIBERS = 120;
const PAGE = 50;

let gateway: TestGateway;
let state: StateTable;
let standIn: ConnectionsApiStandIn;
let context: GatewayContext;
const ids: string[] = [];

let proxy: AwsJsonProxy;

/** `SUBSCRIBERS` open connections subscribed to `channel`. */
async function crowd(channel: string): Promise<string[]> {
  const crowdIds = Array.from({ length: SUBSCRIBERS }, () => newConnectionId());
  await forEachLimited(crowdIds, 20, async (connectionId) => {
    standIn.open(connectionId);
    await putSubscriber(state, 'app', channel, connectionId, undefined, Date.now());
  });
  return crowdIds;
}

beforeAll(async () => {
  proxy = await startDynamoDbProxy(dynamodbEndpoint());
  gateway = await startTestGateway('fan-out-worker', { dynamodbEndpoint: proxy.endpoint });
  ({ state, standIn, context } = gateway);
  ids.push(...(await crowd('crowd')));
});

afterAll(async () => {
  await gateway.close();
  await proxy.close();
});

/** One fan-out queue record per body, all of one lane's group, as the event source hands them over. */
const laneOf = (channel: string): FanOutLaneJob => ({
  kind: 'lane',
  appId: 'app',
  channel,
  frame: { event: 'e', channel, data: 'd' },
  range: { from: '' },
  pageSize: PAGE,
});

/** A failure queue that keeps what is set aside. */
function keptAside() {
  const setAside: { body: string; group: string; reason: string }[] = [];
  const failed: FailedJobs = {
    async setAside(body, group, reason) {
      setAside.push({ body, group, reason });
    },
  };
  return { failed, setAside };
}

const eventOf = (...bodies: string[]): SQSEvent => ({
  Records: bodies.map((body, index) => ({
    messageId: `m${index}`,
    receiptHandle: `r${index}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1',
      SenderId: 'sender',
      ApproximateFirstReceiveTimestamp: '1',
      MessageGroupId: 'lane',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:fan-out.fifo',
    awsRegion: 'us-east-1',
  })),
});

describe('fanOutRecords on a lane', () => {
  it('sets aside a lane it has no time to finish with where it stopped, and the replay of that job posts the rest, each subscriber once', async () => {
    const job = laneOf('crowd');
    const { failed, setAside } = keptAside();

    // No time left past the worker's reserve: one page, then the rest is set aside.
    const first = await fanOutRecords(context, eventOf(JSON.stringify(job)), {
      failed,
      remainingMs: () => WORKER_RESERVE_MS,
    });
    const posted = ids.filter((id) => standIn.framesOf(id).length > 0);

    expect(first.batchItemFailures).toEqual([]);
    expect(posted).toHaveLength(PAGE);
    expect(setAside).toHaveLength(1);
    const aside = setAside[0]!;
    expect(aside.group).toBe('lane');
    expect(aside.reason).toMatch(/stopped before its end/);
    const resumed = JSON.parse(aside.body) as FanOutLaneJob;
    expect(resumed).toEqual({ ...job, after: [...posted].sort().at(-1) });

    // The operator's redrive: the job set aside, run again with time to spare.
    await fanOutRecords(context, eventOf(aside.body), { failed, remainingMs: () => 60_000 });

    expect(setAside).toHaveLength(1);
    for (const id of ids)
      expect(standIn.framesOf(id), id).toEqual([{ event: 'e', channel: 'crowd', data: 'd' }]);
  });

  it('sets aside a lane whose next page cannot be read with where it got to, and the replay posts the rest, each subscriber once', async () => {
    const flaky = await crowd('flaky');
    const { failed, setAside } = keptAside();
    // The second page's Query fails, after the first page was read and while it is posted.
    proxy.setFault(DYNAMODB_FAULTS.internalError, { after: 1, times: 1, operation: 'Query' });
    try {
      await fanOutRecords(context, eventOf(JSON.stringify(laneOf('flaky'))), {
        failed,
        remainingMs: () => 60_000,
      });
    } finally {
      proxy.setFault(undefined);
    }
    const posted = flaky.filter((id) => standIn.framesOf(id).length > 0).sort();

    expect(posted).toHaveLength(PAGE);
    expect(setAside).toHaveLength(1);
    expect(setAside[0]!.reason).toMatch(/could not be read after/);
    expect(JSON.parse(setAside[0]!.body)).toEqual({ ...laneOf('flaky'), after: posted.at(-1) });

    await fanOutRecords(context, eventOf(setAside[0]!.body), { failed, remainingMs: () => 60_000 });

    for (const id of flaky)
      expect(standIn.framesOf(id), id).toEqual([{ event: 'e', channel: 'flaky', data: 'd' }]);
  });
});
