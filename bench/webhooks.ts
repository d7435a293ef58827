// Webhooks: what raising them costs the hot path, and how long an event takes to reach a receiver.
// - In process: one operation's webhook work as `$default` and `$disconnect` run it (`webhookInvocations`:
//   the outbox, the raise, the one SendMessageBatch) against the embedded SQS behind a counting proxy, for an
//   app whose webhooks want the event and one without webhooks; next to the bare work.
// - On the local stack (`npm start`'s): the median time from an event (its `time_ms`) to the receiver, for
//   channel_occupied webhooks raised by pusher-js subscribes.
import Pusher from 'pusher';
import type { GatewayContext } from '../src/gateway/context.js';
import type { StateRuntime } from '../src/gateway/state-runtime.js';
import { webhookInvocations } from '../src/gateway/webhook-runtime.js';
import { startSqs } from '../src/local/sqs.js';
import { offlineLogFile, startLocalStack } from '../src/local/stack.js';
import { createLogger } from '../src/observability/logger.js';
import { channelOccupied } from '../src/webhooks/events.js';
import { decodeInterest, NO_INTEREST } from '../src/webhooks/interest.js';
import { testApp } from '../test/fixtures/apps/items.js';
import { startSqsProxy } from '../test/support/aws-json-proxy.js';
import { CaptureServer } from '../test/support/capture-server.js';
import { seedApps } from '../test/support/local-stack.js';
import { PusherJsClient } from '../test/support/pusher-js.js';
import { type Benchmark, type BenchReport, measureInterleaved, median, setEnvironment } from './support.js';

const WITH = 'enqueue, app with webhooks';
const WITHOUT = 'enqueue, app without webhooks';
const BARE = 'the work alone';
const DELIVERIES = 20;

export const webhookBenchmark: Benchmark = {
  name: 'webhooks',
  async run(): Promise<BenchReport> {
    const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };
    const sqs = await startSqs({ host: '127.0.0.1', region: 'us-east-1', credentials });
    const proxy = await startSqsProxy(sqs.endpoint);
    const restoreEnvironment = setEnvironment({
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_ENDPOINT_URL_SQS: proxy.endpoint,
    });
    try {
      const logger = createLogger('bench-webhooks');
      const runtime = {
        config: {
          region: 'us-east-1',
          webhookQueueUrl: sqs.queues.webhooks.replace(sqs.endpoint, proxy.endpoint),
        },
        logger,
        state: undefined,
      } as unknown as StateRuntime;
      const withWebhooks = webhookInvocations(runtime);
      const context = { logger, now: () => Date.now() } as unknown as GatewayContext;
      const wanted = decodeInterest('channel_occupied');
      // A subscribe's webhook work: one channel_occupied raised (kept only where the app wants it).
      const operation = (interest: typeof wanted) => (invocation: GatewayContext) => {
        invocation.webhooks?.raise('bench-app', interest, channelOccupied('bench'));
        return Promise.resolve(1);
      };
      const options = { rounds: 15, batchSize: 20, warmupRounds: 2 };
      const medians = await measureInterleaved(
        [
          { name: WITH, runAsync: () => withWebhooks(context, operation(wanted)) },
          { name: WITHOUT, runAsync: () => withWebhooks(context, operation(NO_INTEREST)) },
          { name: BARE, runAsync: () => operation(wanted)(context) },
        ],
        options,
      );
      const perOperation = async (interest: typeof wanted) => {
        proxy.resetCounts();
        for (let i = 0; i < 10; i++) await withWebhooks(context, operation(interest));
        return proxy.count() / 10;
      };
      const callsWith = await perOperation(wanted);
      const callsWithout = await perOperation(NO_INTEREST);
      const latency = await eventToReceiver();
      return {
        title: 'Webhooks: the hot path enqueue, per operation (embedded SQS on loopback)',
        medians,
        targets: [],
        counts: [
          { label: 'SQS calls per operation, app with webhooks', value: callsWith, max: 1 },
          { label: 'SQS calls per operation, app without webhooks', value: callsWithout, max: 0 },
          {
            label: `event to receiver on the local stack, median of ${DELIVERIES} channel_occupied, ms`,
            value: Math.round(latency),
            max: 1_500,
          },
        ],
      };
    } finally {
      restoreEnvironment();
      await proxy.close();
      await sqs.close();
    }
  },
};

/** Subscribes one pusher-js client to fresh channels, and measures each channel_occupied's delay. */
async function eventToReceiver(): Promise<number> {
  const receiver = await new CaptureServer().start();
  const stack = await startLocalStack({ port: 0, offlineOutput: offlineLogFile('bench-webhooks') });
  try {
    const app = testApp('bench-hooks', {
      webhooks: [{ url: `http://127.0.0.1:${receiver.port}/hook`, eventTypes: ['channel_occupied'] }],
    });
    await seedApps(stack, [app]);
    const verifier = new Pusher({ appId: app.id, key: app.key, secret: app.secret, host: '127.0.0.1' });
    const client = new PusherJsClient({ key: app.key, port: stack.port });
    await client.connected();
    const delays: number[] = [];
    for (let i = 0; i < DELIVERIES; i++) {
      await client.subscription(`bench-${i}`);
      const request = await receiver.next(10_000);
      const arrived = Date.now();
      const rawBody = request.body.toString();
      if (!verifier.webhook({ headers: request.headers as Record<string, string>, rawBody }).isValid()) {
        throw new Error('a webhook failed its signature check');
      }
      delays.push(arrived - (JSON.parse(rawBody) as { time_ms: number }).time_ms);
    }
    client.pusher.disconnect();
    return median(delays);
  } finally {
    await stack.stop();
    await receiver.close();
  }
}
