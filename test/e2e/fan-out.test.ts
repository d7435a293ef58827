import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalDynamo, startDynamo } from '../../src/local/dynamodb.js';
import { type LocalStack, offlineLogFile, startLocalStack } from '../../src/local/stack.js';
import { type AwsJsonProxy, startDynamoDbProxy } from '../support/aws-json-proxy.js';
import { jsonOf, serverSdk } from '../support/pusher-sdk.js';
import { closeAll, openRawSubscribers, type RawSubscriber } from '../support/raw-subscribers.js';

const SUBSCRIBERS = 500;
/** Clients connecting at once: each connection is three Lambda invocations on the same two cores. */
const CONNECT_CONCURRENCY = 16;
const CHANNEL = 'e2e-fan-out';
const FRAME_TIMEOUT_MS = 30_000;
const DELIVERY_TIMEOUT_MS = 60_000;
const SETUP_TIMEOUT_MS = 300_000;
const OPERATIONS = [
  'Query',
  'GetItem',
  'BatchGetItem',
  'UpdateItem',
  'PutItem',
  'DeleteItem',
  'BatchWriteItem',
];

describe(`fan-out to ${SUBSCRIBERS} subscribers of one channel on the local stack`, () => {
  const log = offlineLogFile('fan-out');
  let dynamo: LocalDynamo | undefined;
  let proxy: AwsJsonProxy | undefined;
  let stack: LocalStack | undefined;
  let subscribers: RawSubscriber[] = [];

  beforeAll(async () => {
    // Every handler's DynamoDB call goes through the counting proxy: the stack takes it as an outside endpoint.
    dynamo = await startDynamo({ endpoint: undefined, persistDir: undefined });
    proxy = await startDynamoDbProxy(dynamo.endpoint);
    stack = await startLocalStack({
      port: 0,
      offlineOutput: log,
      env: { ...process.env, APP_MANAGER_DYNAMODB_ENDPOINT: proxy.endpoint },
    });
    const started = performance.now();
    subscribers = await openRawSubscribers({
      websocketUrl: stack.urls.websocket,
      key: stack.app.key,
      channel: CHANNEL,
      count: SUBSCRIBERS,
      concurrency: CONNECT_CONCURRENCY,
      frameTimeoutMs: FRAME_TIMEOUT_MS,
    });
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `fan-out: ${SUBSCRIBERS} raw clients connected and subscribed in ${seconds.toFixed(1)} s, ${CONNECT_CONCURRENCY} at once`,
    );
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    closeAll(subscribers);
    await stack?.stop();
    await proxy?.close();
    await dynamo?.close();
  }, 60_000);

  it(
    'delivers one trigger to every subscriber exactly as sent, and reports the latency and DynamoDB calls',
    async () => {
      if (!stack || !proxy) throw new Error(`the stack did not start (see ${log})`);
      const sdk = serverSdk(stack, stack.app);
      const data = { text: 'to everyone', n: SUBSCRIBERS };
      const started = performance.now();
      const arrivals = subscribers.map(({ socket }) =>
        socket.nextFrame(DELIVERY_TIMEOUT_MS).then((frame) => ({ frame, atMs: performance.now() - started })),
      );
      proxy.resetCounts();

      const settled = Promise.allSettled(arrivals);
      const answer = await jsonOf(sdk.trigger(CHANNEL, 'fan-out', data));
      const answeredMs = performance.now() - started;
      // A publish that failed delivers nothing: no point waiting for it.
      expect(answer).toEqual({});
      const outcomes = await settled;
      const calls = Object.fromEntries(OPERATIONS.map((operation) => [operation, proxy?.count(operation)]));
      const delivered = outcomes.flatMap((outcome) =>
        outcome.status === 'fulfilled' ? [outcome.value] : [],
      );
      const lastMs = Math.max(...delivered.map(({ atMs }) => atMs));

      console.log(
        `fan-out: ${delivered.length}/${SUBSCRIBERS} subscribers received the event; ` +
          `the publish answered in ${answeredMs.toFixed(0)} ms, the last delivery after ${lastMs.toFixed(0)} ms; ` +
          `DynamoDB calls during the publish: ${JSON.stringify(calls)} (${proxy.count()} in all)`,
      );
      expect(delivered.length, `subscribers that got the event (see ${log})`).toBe(SUBSCRIBERS);
      for (const { frame } of delivered) {
        expect(frame).toEqual({ event: 'fan-out', channel: CHANNEL, data: JSON.stringify(data) });
      }
    },
    DELIVERY_TIMEOUT_MS + 30_000,
  );
});
