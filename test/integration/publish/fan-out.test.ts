import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forEachLimited } from '../../../src/gateway/concurrency.js';
import { socketIdOf } from '../../../src/gateway/socket-id.js';
import { signChannel } from '../../../src/protocol/index.js';
import { putSubscriber } from '../../../src/state/channels.js';
import { channelSubscribers } from '../../../src/state/subscribers.js';
import { appItem, bytes } from '../../fixtures/apps/items.js';
import { FAN_OUT_FUNCTION_NAME, PublishHarness } from '../../fixtures/publish/publish-harness.js';
import { type AwsJsonProxy, startDynamoDbProxy } from '../../support/aws-json-proxy.js';
import { dynamodbEndpoint } from '../../support/dynamodb.js';
import { newConnectionId } from '../../support/events.js';

const SUBSCRIBERS = 500;
const CHANNEL = 'crowd';

/** Subscribers the route posts itself before the worker takes the rest, in this test (50 by default). */
const INLINE_LIMIT = 200;
const JOB_SIZE = 150;
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
      fanOut: { inlineLimit: INLINE_LIMIT, jobSize: JOB_SIZE },
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
  it(`delivers one publish to all ${SUBSCRIBERS} subscribers, exactly once each: a page in the route, the rest in a chain of worker jobs reading one page each`, async () => {
    // Warm the route (cold start, app cache), as a steady stream of publishes would find it.
    await harness.sdk('big').trigger('warm-up', 'e', 'd');
    proxy.resetCounts();
    const jobsBefore = workerJobs().length;

    const startedAt = performance.now();
    const response = await harness.sdk('big').trigger(CHANNEL, 'announcement', '{"v":1}');
    const answeredMs = performance.now() - startedAt;
    await harness.lambdaApi.settled();
    const deliveredMs = performance.now() - startedAt;

    expect(response.status).toBe(200);
    expect(
      notReceiving(connectionIds, [{ event: 'announcement', channel: CHANNEL, data: '{"v":1}' }]),
    ).toEqual([]);
    const jobs = workerJobs().slice(jobsBefore);
    // The route hands on the range after its page; each job reads one page and hands on the rest.
    expect(jobs.every((job) => job.invocationType === 'Event')).toBe(true);
    expect(jobs.map((job) => (job.payload as { kind: string }).kind)).toEqual(jobs.map(() => 'range'));
    expect(jobs).toHaveLength(Math.ceil((SUBSCRIBERS - INLINE_LIMIT) / JOB_SIZE));
    // One Query page for the route and one per job, and at most a rate-window lease.
    expect(proxy.count('Query')).toBe(1 + jobs.length);
    expect(proxy.count() - proxy.count('Query')).toBeLessThanOrEqual(1);
    console.log(
      `fan-out: ${SUBSCRIBERS} subscribers, ${jobs.length} worker jobs: ` +
        `publish answered in ${answeredMs.toFixed(0)} ms, all delivered in ${deliveredMs.toFixed(0)} ms ` +
        `(loopback @connections stand-in, 2 shared cores)`,
    );
  });

  it("leaves the socket_id it names out on every page, the route's and the workers'", async () => {
    const channel = 'excluding-crowd';
    const ids = connectionIds.slice(0, INLINE_LIMIT + 2 * JOB_SIZE).map((id) => `${id}-excluding`);
    await subscribeAll(channel, ids);
    const sorted = [...ids].sort();
    // One on the route's page, one on a worker's: a publish names one, a second publish the other.
    const excluded = [sorted[3]!, sorted[INLINE_LIMIT + JOB_SIZE + 3]!];

    for (const connectionId of excluded) {
      await harness.sdk('big').trigger(channel, 'e', connectionId, { socket_id: socketIdOf(connectionId) });
    }
    await harness.lambdaApi.settled();

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
    const jobsBefore = workerJobs().length;

    await harness.sdk('big').trigger('small-crowd', 'e', 'd');

    expect(notReceiving(small, [{ event: 'e', channel: 'small-crowd', data: 'd' }])).toEqual([]);
    expect(workerJobs()).toHaveLength(jobsBefore);
  });

  it("has the worker clean up the connections API Gateway answers 410 for, the route's page's too, off the response path", async () => {
    const channel = 'leaky-crowd';
    const ids = connectionIds.slice(0, INLINE_LIMIT + JOB_SIZE).map((id) => `${id}-leaky`);
    await subscribeAll(channel, ids);
    const sorted = [...ids].sort();
    // One gone on the route's page, one on the worker's.
    const vanished = [sorted[0]!, sorted[INLINE_LIMIT + 1]!];
    for (const id of vanished) harness.ws.connectionsApi.drop(id);
    const jobsBefore = workerJobs().length;

    await harness.sdk('big').trigger(channel, 'e', 'd');
    const cleanups = workerJobs()
      .slice(jobsBefore)
      .map((job) => job.payload as { kind: string; connectionIds?: string[] })
      .filter((job) => job.kind === 'cleanup');
    // The route answered having handed its gone connection to the worker, not cleaned it up itself.
    expect(cleanups).toEqual([expect.objectContaining({ connectionIds: [vanished[0]] })]);
    await harness.lambdaApi.settled();

    const left = await channelSubscribers(harness.ws.state, 'big', channel, Date.now());
    expect(left.map((subscriber) => subscriber.connectionId).sort()).toEqual(
      sorted.filter((id) => !vanished.includes(id)),
    );
    expect(
      notReceiving(
        ids.filter((id) => !vanished.includes(id)),
        [{ event: 'e', channel, data: 'd' }],
      ),
    ).toEqual([]);
  });

  it('sends a client event to a presence channel larger than the inline bound to every other member, with its user_id, through the worker', async () => {
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
    const members = connectionIds.slice(0, INLINE_LIMIT + JOB_SIZE).map((id) => `${id}-chatty`);
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
    const jobsBefore = workerJobs().length;

    const answer = await harness.ws.send(sender.connectionId, {
      event: 'client-typing',
      channel,
      data: { on: true },
    });
    await harness.lambdaApi.settled();

    expect(answer).toBeUndefined();
    const frame = { event: 'client-typing', channel, data: { on: true }, user_id: 'talker' };
    expect(notReceiving(members, [frame])).toEqual([]);
    expect(harness.ws.connectionsApi.framesOf(sender.connectionId).map((f) => f.event)).not.toContain(
      'client-typing',
    );
    expect(
      workerJobs()
        .slice(jobsBefore)
        .map((job) => (job.payload as { kind: string }).kind),
    ).toContain('range');
  });

  it('posts the whole channel from the route when the worker cannot be invoked, inside its timeout', async () => {
    const channel = 'stranded-crowd';
    const ids = connectionIds.slice(0, INLINE_LIMIT + 2 * JOB_SIZE).map((id) => `${id}-stranded`);
    await subscribeAll(channel, ids);
    harness.lambdaApi.throttled = true;
    try {
      const startedAt = performance.now();
      const response = await harness.sdk('big').trigger(channel, 'e', 'd');
      const answeredMs = performance.now() - startedAt;

      expect(response.status).toBe(200);
      expect(answeredMs).toBeLessThan(ROUTE_TIMEOUT_MS);
      expect(harness.lambdaApi.refused).toBeGreaterThan(0);
      expect(notReceiving(ids, [{ event: 'e', channel, data: 'd' }])).toEqual([]);
    } finally {
      harness.lambdaApi.throttled = false;
    }
  });
});
