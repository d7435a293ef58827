import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forEachLimited } from '../../../src/gateway/concurrency.js';
import { putSubscriber } from '../../../src/state/channels.js';
import { channelSubscribers } from '../../../src/state/subscribers.js';
import { appItem } from '../../fixtures/apps/items.js';
import { FAN_OUT_FUNCTION_NAME, PublishHarness } from '../../fixtures/publish/publish-harness.js';
import { type AwsJsonProxy, startDynamoDbProxy } from '../../support/aws-json-proxy.js';
import { dynamodbEndpoint } from '../../support/dynamodb.js';
import { newConnectionId } from '../../support/events.js';

const SUBSCRIBERS = 500;
const CHANNEL = 'crowd';

/** Channels split across the worker past this many recipients in this test (2,000 by default). */
const INLINE_LIMIT = 200;
const JOB_SIZE = 150;

let harness: PublishHarness;
let proxy: AwsJsonProxy;
const connectionIds: string[] = [];

beforeAll(async () => {
  proxy = await startDynamoDbProxy(dynamodbEndpoint());
  harness = await PublishHarness.start('fan-out', [appItem('big')], {
    dynamodbEndpoint: proxy.endpoint,
    fanOut: { inlineLimit: INLINE_LIMIT, jobSize: JOB_SIZE },
  });
  // The subscriber items a subscription writes, for open connections: 500 handshakes through the handlers
  // would test the WebSocket routes again, not the fan-out.
  for (let index = 0; index < SUBSCRIBERS; index++) connectionIds.push(newConnectionId());
  await subscribeAll(CHANNEL, connectionIds);
}, 60_000);

async function subscribeAll(channel: string, ids: readonly string[]): Promise<void> {
  await forEachLimited(ids, 20, async (connectionId) => {
    harness.ws.connectionsApi.open(connectionId);
    await putSubscriber(harness.ws.state, 'big', channel, connectionId, undefined, Date.now());
  });
}

const workerJobs = () =>
  harness.lambdaApi.invocations.filter((invocation) => invocation.functionName === FAN_OUT_FUNCTION_NAME);

/** The connections that did not receive exactly `frames`. */
function notReceiving(ids: readonly string[], frames: readonly unknown[]): string[] {
  return ids.filter(
    (id) => JSON.stringify(harness.ws.connectionsApi.framesOf(id)) !== JSON.stringify(frames),
  );
}

afterAll(async () => {
  await harness?.close();
  await proxy?.close();
});

describe('fan-out to a large channel', () => {
  it(`delivers one publish to all ${SUBSCRIBERS} subscribers through worker jobs, reading the channel with one Query`, async () => {
    // Warm the route (cold start, app cache), as a steady stream of publishes would find it.
    await harness.sdk('big').trigger('warm-up', 'e', 'd');
    proxy.resetCounts();

    const startedAt = performance.now();
    const response = await harness.sdk('big').trigger(CHANNEL, 'announcement', '{"v":1}');
    const answeredMs = performance.now() - startedAt;
    await harness.lambdaApi.settled();
    const deliveredMs = performance.now() - startedAt;

    expect(response.status).toBe(200);
    expect(
      notReceiving(connectionIds, [{ event: 'announcement', channel: CHANNEL, data: '{"v":1}' }]),
    ).toEqual([]);
    expect(workerJobs().map((invocation) => invocation.invocationType)).toEqual(
      Array(Math.ceil(SUBSCRIBERS / JOB_SIZE)).fill('Event'),
    );
    const calls = {
      Query: proxy.count('Query'),
      UpdateItem: proxy.count('UpdateItem'),
      total: proxy.count(),
    };
    // The subscriber Query (one 1 MB page holds ~10,000 subscriber items) and at most a rate-window lease.
    expect(calls.Query).toBe(1);
    expect(calls.total).toBeLessThanOrEqual(2);
    console.log(
      `fan-out: ${SUBSCRIBERS} subscribers in ${workerJobs().length} worker jobs: ` +
        `publish answered in ${answeredMs.toFixed(0)} ms, all delivered in ${deliveredMs.toFixed(0)} ms ` +
        `(loopback @connections stand-in, 2 shared cores); DynamoDB calls: ${JSON.stringify(calls)}`,
    );
  });

  it('posts a channel within the inline limit from the publishing invocation, with no worker job', async () => {
    const small = connectionIds.slice(0, INLINE_LIMIT).map((id) => `${id}-small`);
    await subscribeAll('small-crowd', small);
    const jobsBefore = workerJobs().length;

    await harness.sdk('big').trigger('small-crowd', 'e', 'd');

    expect(notReceiving(small, [{ event: 'e', channel: 'small-crowd', data: 'd' }])).toEqual([]);
    expect(workerJobs()).toHaveLength(jobsBefore);
  });

  it('has the worker clean up the connections API Gateway answers 410 for', async () => {
    const channel = 'leaky-crowd';
    const ids = connectionIds.slice(0, 2 * JOB_SIZE).map((id) => `${id}-leaky`);
    await subscribeAll(channel, ids);
    const vanished = [ids[0]!, ids[JOB_SIZE + 1]!];
    for (const id of vanished) harness.ws.connectionsApi.drop(id);

    await harness.sdk('big').trigger(channel, 'e', 'd');
    await harness.lambdaApi.settled();

    const left = await channelSubscribers(harness.ws.state, 'big', channel, Date.now());
    expect(left).toHaveLength(ids.length - vanished.length);
    expect(left.map((subscriber) => subscriber.connectionId)).not.toContain(vanished[0]);
    expect(
      notReceiving(
        ids.filter((id) => !vanished.includes(id)),
        [{ event: 'e', channel, data: 'd' }],
      ),
    ).toEqual([]);
  });
});
