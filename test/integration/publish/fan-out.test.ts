import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forEachLimited } from '../../../src/gateway/concurrency.js';
import { putSubscriber } from '../../../src/state/channels.js';
import { appItem } from '../../fixtures/apps/items.js';
import { PublishHarness } from '../../fixtures/publish/publish-harness.js';
import { dynamodbEndpoint } from '../../support/dynamodb.js';
import { type DynamoDbProxy, startDynamoDbProxy } from '../../support/dynamodb-proxy.js';
import { newConnectionId } from '../../support/events.js';

const SUBSCRIBERS = 500;
const CHANNEL = 'crowd';

let harness: PublishHarness;
let proxy: DynamoDbProxy;
const connectionIds: string[] = [];

beforeAll(async () => {
  proxy = await startDynamoDbProxy(dynamodbEndpoint());
  harness = await PublishHarness.start('fan-out', [appItem('big')], { dynamodbEndpoint: proxy.endpoint });
  // The subscriber items a subscription writes, for open connections: 500 handshakes through the handlers
  // would test the WebSocket routes again, not the fan-out.
  for (let index = 0; index < SUBSCRIBERS; index++) connectionIds.push(newConnectionId());
  await forEachLimited(connectionIds, 20, async (connectionId) => {
    harness.ws.connectionsApi.open(connectionId);
    await putSubscriber(harness.ws.state, 'big', CHANNEL, connectionId, undefined, Date.now());
  });
}, 60_000);

afterAll(async () => {
  await harness?.close();
  await proxy?.close();
});

describe('fan-out to a large channel', () => {
  it(`delivers one publish to all ${SUBSCRIBERS} subscribers, reading the channel with one Query`, async () => {
    // Warm the route (cold start, app cache), as a steady stream of publishes would find it.
    await harness.sdk('big').trigger('warm-up', 'e', 'd');
    proxy.resetCounts();

    const startedAt = performance.now();
    const response = await harness.sdk('big').trigger(CHANNEL, 'announcement', '{"v":1}');
    const latencyMs = performance.now() - startedAt;

    expect(response.status).toBe(200);
    const missing = connectionIds.filter(
      (id) =>
        JSON.stringify(harness.ws.connectionsApi.framesOf(id)) !==
        JSON.stringify([{ event: 'announcement', channel: CHANNEL, data: '{"v":1}' }]),
    );
    expect(missing).toEqual([]);
    const calls = {
      Query: proxy.count('Query'),
      UpdateItem: proxy.count('UpdateItem'),
      total: proxy.count(),
    };
    // The subscriber Query (one 1 MB page holds ~10,000 subscriber items) and at most a rate-window lease.
    expect(calls.Query).toBe(1);
    expect(calls.total).toBeLessThanOrEqual(2);
    console.log(
      `fan-out: ${SUBSCRIBERS} subscribers, publish answered in ${latencyMs.toFixed(0)} ms ` +
        `(${((latencyMs * 1000) / SUBSCRIBERS).toFixed(0)} µs per post, loopback @connections stand-in), ` +
        `DynamoDB calls: ${JSON.stringify(calls)}`,
    );
  });
});
