import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalDynamo, startDynamo } from '../../src/local/dynamodb.js';
import { type LocalStack, offlineLogFile, startLocalStack } from '../../src/local/stack.js';
import { type AwsJsonProxy, startDynamoDbProxy } from '../support/aws-json-proxy.js';
import { nextEvent, type PusherJsClient, PusherJsClients } from '../support/pusher-js.js';
import { jsonOf, serverSdk } from '../support/pusher-sdk.js';

const SUBSCRIBERS = 500;
/** pusher-js clients connecting and subscribing at once: each is four Lambda invocations on two shared cores. */
const CONNECT_BATCH = 20;
const CHANNEL = 'e2e-fan-out';
/** The time budget: one batch of 20 connected and subscribed, the last subscriber reached, all 500 set up. */
const BATCH_TIMEOUT_MS = 30_000;
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
  const clients = new PusherJsClients();
  const subscribers: PusherJsClient[] = [];

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
    for (let batch = 0; batch < SUBSCRIBERS / CONNECT_BATCH; batch++) {
      const opened = Array.from({ length: CONNECT_BATCH }, () =>
        clients.connect({ key: stack!.app.key, port: stack!.port }),
      );
      await Promise.all(
        opened.map(async (client) => {
          await client.connected(BATCH_TIMEOUT_MS);
          const outcome = await client.subscription(CHANNEL, BATCH_TIMEOUT_MS);
          if (!outcome.succeeded) throw new Error(`subscription refused: ${JSON.stringify(outcome.error)}`);
        }),
      );
      subscribers.push(...opened);
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `fan-out: ${SUBSCRIBERS} pusher-js clients connected and subscribed in ${seconds.toFixed(1)} s, ${CONNECT_BATCH} at a time`,
    );
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    clients.disconnectAll();
    await stack?.stop();
    await proxy?.close();
    await dynamo?.close();
  }, 60_000);

  it(
    'delivers one trigger to every pusher-js subscriber exactly as sent, within 60 s, and reports the latency and DynamoDB calls',
    async () => {
      if (!stack || !proxy) throw new Error(`the stack did not start (see ${log})`);
      const sdk = serverSdk(stack, stack.app);
      const data = { text: 'to everyone', n: SUBSCRIBERS };
      const started = performance.now();
      const arrivals = subscribers.map((client) =>
        nextEvent<unknown>(
          client.pusher.channel(CHANNEL)!,
          'fan-out',
          'the trigger',
          DELIVERY_TIMEOUT_MS,
        ).then((received) => ({ received, atMs: performance.now() - started })),
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
      // pusher-js parses the data string back: every subscriber got exactly what was sent.
      for (const { received } of delivered) expect(received).toEqual(data);
      expect(subscribers.every((client) => client.errors.length === 0)).toBe(true);
    },
    DELIVERY_TIMEOUT_MS + 30_000,
  );
});
