import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appItem } from '../../fixtures/apps/items.js';
import { PublishHarness, type TestClient } from '../../fixtures/publish/publish-harness.js';
import { type AwsJsonProxy, startDynamoDbProxy } from '../../support/aws-json-proxy.js';
import { dynamodbEndpoint } from '../../support/dynamodb.js';

let harness: PublishHarness;
let proxy: AwsJsonProxy;

beforeAll(async () => {
  proxy = await startDynamoDbProxy(dynamodbEndpoint());
  harness = await PublishHarness.start(
    'client-events',
    [
      appItem('chatty', {
        EnableClientMessages: { BOOL: true },
        MaxClientEventsPerSecond: { N: '3' },
        MaxEventNameLength: { N: '20' },
        MaxEventPayloadInKb: { N: '1' },
      }),
      appItem('quiet', { EnableClientMessages: { BOOL: false } }),
      appItem('roomy', { EnableClientMessages: { BOOL: true }, MaxEventPayloadInKb: { N: '-1' } }),
    ],
    { dynamodbEndpoint: proxy.endpoint },
  );
});

afterAll(async () => {
  await harness?.close();
  await proxy?.close();
});

let channelCount = 0;
const fresh = (prefix: string) => `${prefix}room-${++channelCount}`;

/** A client event as pusher-js sends it: `data` as the object the app passed to `channel.trigger`. */
const send = (client: TestClient, channel: string, event = 'client-typing', data: unknown = { who: 'me' }) =>
  harness.ws.send(client.connectionId, { event, channel, data });

describe('client events', () => {
  it('reach the other subscribers of a private channel, never the sender, with no answer to the sender', async () => {
    const channel = fresh('private-');
    const [sender, peer, bystander] = [
      await harness.subscriber('chatty', [channel]),
      await harness.subscriber('chatty', [channel]),
      await harness.subscriber('chatty', [fresh('private-')]),
    ];
    proxy.resetCounts();

    await expect(send(sender, channel)).resolves.toBeUndefined();

    expect(harness.eventsOf(peer)).toEqual([{ event: 'client-typing', channel, data: { who: 'me' } }]);
    expect(harness.eventsOf(sender)).toEqual([]);
    expect(harness.eventsOf(bystander)).toEqual([]);
    // The sender's subscription (GetItem), one Query page of the channel's subscribers, one token lease for
    // the app's MaxClientEventsPerSecond, shared across containers; the app is cached.
    expect(proxy.count('GetItem')).toBe(1);
    expect(proxy.count('Query')).toBe(1);
    expect(proxy.count('UpdateItem')).toBe(1);
    expect(proxy.count()).toBe(3);
  });

  it('carry the sender user_id on presence channels', async () => {
    const channel = fresh('presence-');
    const sender = await harness.subscriber('chatty', [channel], { user_id: 'ada' });
    const peer = await harness.subscriber('chatty', [channel], { user_id: 'bob' });

    await send(sender, channel, 'client-move', { x: 1 });

    expect(harness.eventsOf(peer)).toEqual([
      { event: 'client-move', channel, data: { x: 1 }, user_id: 'ada' },
    ]);
  });

  it.each([
    {
      why: 'the app does not enable client messages',
      app: 'quiet',
      channel: () => fresh('private-'),
      code: 4301,
      message: 'The app does not have client messaging enabled.',
    },
    {
      why: 'the channel is public',
      app: 'chatty',
      channel: () => fresh('public-'),
      code: 4301,
      message: expect.stringMatching(/only allowed on private and presence channels/),
    },
  ])(
    'are refused with pusher:error when $why, and nobody receives them',
    async ({ app, channel, code, message }) => {
      const name = channel();
      const sender = await harness.subscriber(app, [name]);
      const peer = await harness.subscriber(app, [name]);

      await expect(send(sender, name)).resolves.toEqual({ event: 'pusher:error', data: { code, message } });
      expect(harness.eventsOf(peer)).toEqual([]);
    },
  );

  it('are refused on a channel the sender has not joined', async () => {
    const channel = fresh('private-');
    const outsider = await harness.subscriber('chatty', []);
    const member = await harness.subscriber('chatty', [channel]);

    await expect(send(outsider, channel)).resolves.toEqual({
      event: 'pusher:error',
      data: { code: 4301, message: `Subscribe to "${channel}" before sending client events on it.` },
    });
    expect(harness.eventsOf(member)).toEqual([]);
  });

  it('are refused past the app limits on event name length and payload size', async () => {
    const channel = fresh('private-');
    const sender = await harness.subscriber('chatty', [channel]);
    const peer = await harness.subscriber('chatty', [channel]);

    await expect(send(sender, channel, `client-${'x'.repeat(14)}`)).resolves.toMatchObject({
      event: 'pusher:error',
      data: { code: 4301, message: expect.stringMatching(/^Event name: .*20/) },
    });
    await expect(send(sender, channel, 'client-big', 'y'.repeat(1024))).resolves.toMatchObject({
      event: 'pusher:error',
      data: { code: 4301, message: expect.stringMatching(/1026 bytes, over the allowed maximum of 1024/) },
    });
    expect(harness.eventsOf(peer)).toEqual([]);
  });

  it('past MaxClientEventsPerSecond are refused with 4301 and the connection stays open', async () => {
    const channel = fresh('private-');
    const sender = await harness.subscriber('chatty', [channel]);
    const peer = await harness.subscriber('chatty', [channel]);
    // Start at the beginning of a second, so that every message falls in one window.
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000)));

    const replies = [];
    for (let index = 0; index < 5; index++) replies.push(await send(sender, channel, 'client-n', index));

    expect(replies.slice(0, 3)).toEqual([undefined, undefined, undefined]);
    for (const reply of replies.slice(3)) {
      expect(reply).toEqual({
        event: 'pusher:error',
        data: {
          code: 4301,
          message: 'Client event rejected due to rate limit: MaxClientEventsPerSecond is 3.',
        },
      });
    }
    expect(harness.eventsOf(peer).map((frame) => frame.data)).toEqual([0, 1, 2]);
    expect(harness.ws.connectionsApi.isOpen(sender.connectionId)).toBe(true);
  });

  it("are refused when their frame would pass API Gateway's 128,000-byte limit, whatever MaxEventPayloadInKb allows", async () => {
    const channel = fresh('private-');
    const [sender, peer] = [
      await harness.subscriber('roomy', [channel]),
      await harness.subscriber('roomy', [channel]),
    ];

    const reply = await send(sender, channel, 'client-big', { text: 'x'.repeat(128_000) });

    expect(reply).toMatchObject({
      event: 'pusher:error',
      data: { code: 4301, message: expect.stringContaining("over API Gateway's limit of 128000 bytes") },
    });
    expect(harness.eventsOf(peer)).toEqual([]);
  });
});
