import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../../src/apps/app.js';
import { type LocalSqs, startSqs } from '../../../src/local/sqs.js';
import { signChannel } from '../../../src/protocol/index.js';
import { DEPARTURE_DELAY_SECONDS } from '../../../src/webhooks/events.js';
import type { WebhookMessage } from '../../../src/webhooks/messages.js';
import { appItem } from '../../fixtures/apps/items.js';
import { WsHarness } from '../../fixtures/gateway/ws-harness.js';
import { type AwsJsonProxy, startDynamoDbProxy, startSqsProxy } from '../../support/aws-json-proxy.js';
import { dynamodbEndpoint } from '../../support/dynamodb.js';

// The hot paths through the real handlers: what they enqueue on the embedded SQS (behind a fault proxy),
// and what it costs them, for an app with webhooks and one without.

let sqs: LocalSqs;
let sqsProxy: AwsJsonProxy;
let dynamo: AwsJsonProxy;
let gateway: WsHarness;

const EVERY_EVENT = JSON.stringify([
  {
    url: 'https://hooks.example/in',
    event_types: ['channel_occupied', 'channel_vacated', 'member_added', 'member_removed', 'client_event'],
  },
]);

beforeAll(async () => {
  sqs = await startSqs({
    host: '127.0.0.1',
    region: 'us-east-1',
    credentials: { accessKeyId: 'f', secretAccessKey: 'f' },
  });
  sqsProxy = await startSqsProxy(sqs.endpoint);
  dynamo = await startDynamoDbProxy(dynamodbEndpoint());
  gateway = await WsHarness.start(
    'raising',
    [
      appItem('hooked', { Webhooks: { S: EVERY_EVENT }, EnableClientMessages: { BOOL: true } }),
      appItem('plain', { EnableClientMessages: { BOOL: true } }),
    ],
    {
      dynamodbEndpoint: dynamo.endpoint,
      // The SDK sends to the queue URL's host: the URL names the proxy, the emulator reads only its path.
      env: {
        WEBHOOK_QUEUE_URL: sqs.queues.webhooks.replace(sqs.endpoint, sqsProxy.endpoint),
        AWS_ENDPOINT_URL_SQS: sqsProxy.endpoint,
        // Every message looks its app up, so both apps' counts include the same lookups.
        APP_MANAGER_CACHE_ENABLED: 'false',
      },
    },
  );
});

afterEach(async () => {
  sqsProxy.setFault(undefined);
  dynamo.setFault(undefined);
  await drain();
});

afterAll(async () => {
  await gateway?.close();
  await dynamo?.close();
  await sqsProxy?.close();
  await sqs?.close();
});

/** Every message on the webhook queue now (a departure's delay is waited out), removed from it. */
async function drain(waitForDelayed = false): Promise<{ message: WebhookMessage; delayed: boolean }[]> {
  const taken: { message: WebhookMessage; delayed: boolean }[] = [];
  const deadline = Date.now() + (waitForDelayed ? (DEPARTURE_DELAY_SECONDS + 2) * 1000 : 0);
  do {
    const { Messages = [] } = await sqs.client.send(
      new ReceiveMessageCommand({
        QueueUrl: sqs.queues.webhooks,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        AttributeNames: ['All'],
      }),
    );
    for (const message of Messages) {
      const sentAt = Number(message.Attributes?.SentTimestamp);
      taken.push({
        message: JSON.parse(message.Body!),
        delayed: Date.now() - sentAt >= DEPARTURE_DELAY_SECONDS * 1000 - 200,
      });
    }
    if (Messages.length > 0) {
      await sqs.client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: sqs.queues.webhooks,
          Entries: Messages.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle!,
          })),
        }),
      );
    } else if (Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
  } while (Date.now() < deadline);
  return taken;
}

const eventsOf = (taken: { message: WebhookMessage }[]) =>
  taken.flatMap(({ message }) => (message.type === 'raised' ? message.events.map(({ event }) => event) : []));

const subscribe = (channel: string, data: Record<string, string> = {}) => ({
  event: 'pusher:subscribe',
  data: { auth: '', ...data, channel },
});

function presenceAuth(app: Pick<App, 'key' | 'secret'>, socketId: string, channel: string, userId: string) {
  const channelData = JSON.stringify({ user_id: userId });
  return { auth: signChannel({ ...app, socketId, channel, channelData }).auth, channel_data: channelData };
}

describe('webhook events from the hot paths', () => {
  it('a first subscriber raises channel_occupied, in one message enqueued by one SendMessageBatch', async () => {
    const { connectionId } = await gateway.connect('hooked-key');
    sqsProxy.resetCounts();
    await gateway.send(connectionId, subscribe('news'));
    const { connectionId: second } = await gateway.connect('hooked-key');
    await gateway.send(second, subscribe('news'));

    expect(sqsProxy.count('SendMessageBatch')).toBe(1);
    expect(sqsProxy.count()).toBe(1);
    const taken = await drain();
    expect(taken).toHaveLength(1);
    expect(taken[0]!.message).toMatchObject({ v: 1, type: 'raised', appId: 'hooked' });
    expect(eventsOf(taken)).toEqual([{ name: 'channel_occupied', channel: 'news' }]);
    expect(JSON.stringify(taken)).not.toContain('hooked-secret');
  });

  it('a $disconnect from several channels is one delayed message holding every departure', async () => {
    const app = { key: 'hooked-key', secret: 'hooked-secret' };
    const { connectionId, socketId } = await gateway.connect('hooked-key');
    await gateway.send(connectionId, subscribe('room-a'));
    await gateway.send(connectionId, subscribe('room-b'));
    await gateway.send(
      connectionId,
      subscribe('presence-c', presenceAuth(app, socketId, 'presence-c', 'u1')),
    );
    await drain();
    sqsProxy.resetCounts();

    await gateway.disconnect(connectionId);

    expect(sqsProxy.count('SendMessageBatch')).toBe(1);
    const taken = await drain(true);
    expect(taken).toHaveLength(1);
    expect(taken[0]!.delayed).toBe(true);
    expect(
      eventsOf(taken).sort((a, b) => a.channel.localeCompare(b.channel) || a.name.localeCompare(b.name)),
    ).toEqual([
      { name: 'channel_vacated', channel: 'presence-c' },
      { name: 'member_removed', channel: 'presence-c', user_id: 'u1' },
      { name: 'channel_vacated', channel: 'room-a' },
      { name: 'channel_vacated', channel: 'room-b' },
    ]);
  });

  it('client events raise client_event: data as a string, the socket id, and user_id on presence channels', async () => {
    const app = { key: 'hooked-key', secret: 'hooked-secret' };
    const { connectionId, socketId } = await gateway.connect('hooked-key');
    await gateway.send(
      connectionId,
      subscribe('presence-talk', presenceAuth(app, socketId, 'presence-talk', 'u7')),
    );
    await drain();
    await gateway.send(connectionId, {
      event: 'client-typing',
      channel: 'presence-talk',
      data: { words: 3 },
    });

    expect(eventsOf(await drain())).toEqual([
      {
        name: 'client_event',
        channel: 'presence-talk',
        event: 'client-typing',
        data: '{"words":3}',
        socket_id: socketId,
        user_id: 'u7',
      },
    ]);
  });

  it('an app without webhooks costs no queue call, and the same DynamoDB calls as one with them', async () => {
    const costOf = async (key: string) => {
      const { connectionId } = await gateway.connect(key);
      dynamo.resetCounts();
      sqsProxy.resetCounts();
      await gateway.send(connectionId, subscribe('costed'));
      await gateway.send(connectionId, { event: 'pusher:unsubscribe', data: { channel: 'costed' } });
      await gateway.send(connectionId, subscribe('costed'));
      await gateway.disconnect(connectionId);
      const operations = ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query'];
      return { dynamodb: operations.map((operation) => dynamo.count(operation)), sqs: sqsProxy.count() };
    };
    const plain = await costOf('plain-key');
    const hooked = await costOf('hooked-key');

    expect(plain.sqs).toBe(0);
    expect(hooked.sqs).toBe(4);
    expect(hooked.dynamodb).toEqual(plain.dynamodb);
  });

  it.each([
    ['SQS answering 500', { kind: 'error', status: 500, type: 'InternalError' } as const],
    ['a reset connection', { kind: 'reset' } as const],
  ])('%s never fails the client: the subscription succeeds all the same', async (_what, fault) => {
    const { connectionId } = await gateway.connect('hooked-key');
    sqsProxy.setFault(fault);
    const frames = await gateway.exchange(connectionId, subscribe('unlucky'));
    expect(frames.map(({ event }) => event)).toEqual(['pusher_internal:subscription_succeeded']);
    expect(sqsProxy.count('SendMessageBatch')).toBeGreaterThan(0);
  });

  it('DynamoDB failing halfway through a subscribe: the client gets a Pusher error, and what happened is still enqueued', async () => {
    const { connectionId } = await gateway.connect('hooked-key');
    // The subscriber item's write fails (the SDK's retry too) after the count took the channel from 0 to 1.
    dynamo.setFault(
      { kind: 'error', status: 500, type: 'InternalServerError' },
      { after: 0, times: 2, operation: 'PutItem' },
    );
    const frames = await gateway.exchange(connectionId, subscribe('half-done'));
    expect(frames.map(({ event }) => event)).toEqual(['pusher:subscription_error']);
    const events = eventsOf(await drain(true)).filter((event) => event.channel === 'half-done');
    // Raised as they happened: occupied, then the vacate of the subscribe taken back (the sender sends neither).
    expect(events.map(({ name }) => name)).toEqual(['channel_occupied', 'channel_vacated']);
  });
});
