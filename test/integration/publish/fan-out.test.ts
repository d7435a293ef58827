import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forEachLimited } from '../../../src/gateway/concurrency.js';
import { socketIdOf } from '../../../src/gateway/socket-id.js';
import { signChannel } from '../../../src/protocol/index.js';
import { inLane, laneRanges } from '../../../src/publish/lanes.js';
import { putSubscriber } from '../../../src/state/channels.js';
import { channelSubscribers } from '../../../src/state/subscribers.js';
import { appItem, bytes } from '../../fixtures/apps/items.js';
import { PublishHarness } from '../../fixtures/publish/publish-harness.js';
import { type AwsJsonProxy, SQS_FAULTS, startDynamoDbProxy } from '../../support/aws-json-proxy.js';
import { dynamodbEndpoint } from '../../support/dynamodb.js';
import { newConnectionId } from '../../support/events.js';

const SUBSCRIBERS = 500;
const CHANNEL = 'crowd';

/** Subscribers the route posts itself, in this test (50 by default): a larger channel goes to the lanes. */
const INLINE_LIMIT = 100;
/** Subscribers per page of a lane job, and lanes: ~125 subscribers a lane, in 3 pages. */
const JOB_SIZE = 50;
const LANES = 4;
/** The publishing routes' Lambda timeout (serverless.yml). */
const ROUTE_TIMEOUT_MS = 10_000;

let harness: PublishHarness;
let proxy: AwsJsonProxy;
const connectionIds: string[] = [];

beforeAll(async () => {
  proxy = await startDynamoDbProxy(dynamodbEndpoint());
  harness = await PublishHarness.start(
    'fan-out',
    [appItem('big'), appItem('chatty', { EnableClientMessages: bytes('true') })],
    {
      dynamodbEndpoint: proxy.endpoint,
      fanOut: { inlineLimit: INLINE_LIMIT, jobSize: JOB_SIZE, lanes: LANES },
    },
  );
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

/** The connections that did not receive exactly `frames`. */
function notReceiving(ids: readonly string[], frames: readonly unknown[]): string[] {
  return ids.filter(
    (id) => JSON.stringify(harness.ws.connectionsApi.framesOf(id)) !== JSON.stringify(frames),
  );
}

/** The Query pages a lane job reads: one per `JOB_SIZE` subscribers of its lane, one at least. */
const pagesOf = (ids: readonly string[]) =>
  laneRanges(LANES)
    .map((range) => ids.filter((id) => inLane(range, id)).length)
    .reduce((pages, inRange) => pages + Math.max(1, Math.ceil(inRange / JOB_SIZE)), 0);

afterAll(async () => {
  await harness?.close();
  await proxy?.close();
});

describe('fan-out to a large channel', () => {
  it(`delivers one publish to all ${SUBSCRIBERS} subscribers, exactly once each, through ${LANES} lanes read page by page`, async () => {
    // Warm the route (cold start, app cache), as a steady stream of publishes would find it.
    await harness.sdk('big').trigger('warm-up', 'e', 'd');
    await harness.fanOutSettled();
    proxy.resetCounts();
    const jobsBefore = harness.workerJobs().length;

    const startedAt = performance.now();
    const response = await harness.sdk('big').trigger(CHANNEL, 'announcement', '{"v":1}');
    const answeredMs = performance.now() - startedAt;
    await harness.fanOutSettled();
    const deliveredMs = performance.now() - startedAt;

    expect(response.status).toBe(200);
    expect(
      notReceiving(connectionIds, [{ event: 'announcement', channel: CHANNEL, data: '{"v":1}' }]),
    ).toEqual([]);
    // One job per lane, each for its own range, together covering every connection id.
    const jobs = harness.workerJobs().slice(jobsBefore);
    expect(jobs.map((job) => job.kind === 'lane' && job.range)).toEqual(laneRanges(LANES));
    // The route's one page (which posts nothing of a channel past the inline bound), then each lane's pages;
    // at most a rate-window lease besides.
    expect(proxy.count('Query')).toBe(1 + pagesOf(connectionIds));
    expect(proxy.count() - proxy.count('Query')).toBeLessThanOrEqual(1);
    console.log(
      `fan-out: ${SUBSCRIBERS} subscribers, ${jobs.length} lane jobs: ` +
        `publish answered in ${answeredMs.toFixed(0)} ms, all delivered in ${deliveredMs.toFixed(0)} ms ` +
        `(embedded SQS, loopback @connections stand-in, 2 shared cores)`,
    );
  });

  it('leaves the socket_id it names out on every page of every lane', async () => {
    const channel = 'excluding-crowd';
    const ids = connectionIds.slice(0, 300).map((id) => `${id}-excluding`);
    await subscribeAll(channel, ids);
    const sorted = [...ids].sort();
    // One on the first page of the first lane, one on the last page of the last.
    const excluded = [sorted[3]!, sorted.at(-3)!];

    for (const connectionId of excluded) {
      await harness.sdk('big').trigger(channel, 'e', connectionId, { socket_id: socketIdOf(connectionId) });
    }
    await harness.fanOutSettled();

    for (const id of ids) {
      const expected = excluded
        .filter((sender) => sender !== id)
        .map((sender) => ({ event: 'e', channel, data: sender }));
      expect(harness.ws.connectionsApi.framesOf(id), id).toEqual(expected);
    }
  });

  it('posts a channel within the inline limit from the publishing invocation, with no worker job', async () => {
    const small = connectionIds.slice(0, INLINE_LIMIT).map((id) => `${id}-small`);
    await subscribeAll('small-crowd', small);
    await harness.fanOutSettled();
    const jobsBefore = harness.workerJobs().length;

    await harness.sdk('big').trigger('small-crowd', 'e', 'd');

    expect(notReceiving(small, [{ event: 'e', channel: 'small-crowd', data: 'd' }])).toEqual([]);
    await harness.fanOutSettled();
    expect(harness.workerJobs()).toHaveLength(jobsBefore);
  });

  it.each([
    {
      where: "the route's own posts (a channel within the inline limit)",
      size: INLINE_LIMIT,
      kind: 'cleanup',
    },
    { where: "a lane job's posts", size: 2 * INLINE_LIMIT, kind: 'lane' },
  ])(
    'leaves the connections API Gateway answers 410 for on $where to the worker, off the response path',
    async ({ size, kind }) => {
      const channel = `leaky-crowd-${size}`;
      const ids = connectionIds.slice(0, size).map((id) => `${id}-leaky-${size}`);
      await subscribeAll(channel, ids);
      const vanished = [...ids].sort()[size >> 1]!;
      harness.ws.connectionsApi.drop(vanished);
      const subscribed = async () =>
        (await channelSubscribers(harness.ws.state, 'big', channel, Date.now())).map(
          (subscriber) => subscriber.connectionId,
        );
      await harness.fanOutSettled();
      harness.pauseFanOut();
      const jobsBefore = harness.workerJobs().length;

      try {
        await harness.sdk('big').trigger(channel, 'e', 'd');
        // The route answered without cleaning up.
        expect(await subscribed()).toContain(vanished);
      } finally {
        harness.resumeFanOut();
      }
      await harness.fanOutSettled();

      expect(
        harness
          .workerJobs()
          .slice(jobsBefore)
          .map((job) => job.kind),
      ).toContain(kind);
      expect((await subscribed()).sort()).toEqual(ids.filter((id) => id !== vanished).sort());
      expect(
        notReceiving(
          ids.filter((id) => id !== vanished),
          [{ event: 'e', channel, data: 'd' }],
        ),
      ).toEqual([]);
    },
  );

  it('sends a client event to a presence channel larger than the inline bound to every other member, with its user_id, through the lanes', async () => {
    const channel = 'presence-chatty-crowd';
    // The sender joins first, so the crowd (written as their subscriptions would be) sees no member_added.
    const sender = await harness.ws.connect('chatty-key');
    const auth = signChannel({
      key: 'chatty-key',
      secret: 'chatty-secret',
      socketId: sender.socketId,
      channel,
      channelData: JSON.stringify({ user_id: 'talker' }),
    });
    await harness.ws.send(sender.connectionId, {
      event: 'pusher:subscribe',
      data: { channel, ...auth, channel_data: JSON.stringify({ user_id: 'talker' }) },
    });
    const members = connectionIds.slice(0, 3 * INLINE_LIMIT).map((id) => `${id}-chatty`);
    await forEachLimited(members, 20, async (connectionId) => {
      harness.ws.connectionsApi.open(connectionId);
      await putSubscriber(
        harness.ws.state,
        'chatty',
        channel,
        connectionId,
        `user-${connectionId}`,
        Date.now(),
      );
    });
    await harness.fanOutSettled();
    const jobsBefore = harness.workerJobs().length;

    const answer = await harness.ws.send(sender.connectionId, {
      event: 'client-typing',
      channel,
      data: { on: true },
    });
    await harness.fanOutSettled();

    expect(answer).toBeUndefined();
    const frame = { event: 'client-typing', channel, data: { on: true }, user_id: 'talker' };
    expect(notReceiving(members, [frame])).toEqual([]);
    expect(harness.ws.connectionsApi.framesOf(sender.connectionId).map((f) => f.event)).not.toContain(
      'client-typing',
    );
    expect(
      harness
        .workerJobs()
        .slice(jobsBefore)
        .map((job) => job.kind),
    ).toEqual(laneRanges(LANES).map(() => 'lane'));
  });

  it('posts the whole channel from the route when the fan-out queue refuses the lanes, inside its timeout', async () => {
    const channel = 'stranded-crowd';
    const ids = connectionIds.slice(0, 3 * INLINE_LIMIT).map((id) => `${id}-stranded`);
    await subscribeAll(channel, ids);
    await harness.fanOutSettled();
    const jobsBefore = harness.workerJobs().length;
    harness.sqsProxy.resetCounts();
    harness.sqsProxy.setFault(SQS_FAULTS.serviceUnavailable);
    try {
      const startedAt = performance.now();
      const response = await harness.sdk('big').trigger(channel, 'e', 'd');
      const answeredMs = performance.now() - startedAt;

      expect(response.status).toBe(200);
      expect(answeredMs).toBeLessThan(ROUTE_TIMEOUT_MS);
      expect(harness.sqsProxy.count('SendMessageBatch')).toBeGreaterThan(0);
      expect(notReceiving(ids, [{ event: 'e', channel, data: 'd' }])).toEqual([]);
    } finally {
      harness.sqsProxy.setFault(undefined);
    }
    await harness.fanOutSettled();
    expect(harness.workerJobs()).toHaveLength(jobsBefore);
  });
});
