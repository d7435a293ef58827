import { describe, expect, it } from 'vitest';
import { testApp } from '../fixtures/apps/items.js';
import { useLocalStack } from '../support/local-stack.js';
import { type Answer, answerOf, jsonOf, refusalOf, type SdkCall, serverSdk } from '../support/pusher-sdk.js';

/** Limits small enough to cross with a few bytes, all far below what the SDK checks on its own. */
const LIMITED_APP = testApp('e2e-limits', {
  maxEventPayloadInKb: 1,
  maxEventBatchSize: 2,
  maxEventChannelsAtOnce: 3,
  maxEventNameLength: 20,
  maxChannelNameLength: 30,
});
const BACKEND_RATE = 3;
const BACKEND_RATE_APP = testApp('e2e-backend-rate', { maxBackendEventsPerSecond: BACKEND_RATE });
const READ_RATE = 2;
const READ_RATE_APP = testApp('e2e-read-rate', { maxReadRequestsPerSecond: READ_RATE });
/** Requests sent at once: they land in at most two one-second windows, so some must be over the rate. */
const BURST = 3 * READ_RATE;

const settle = (calls: SdkCall[]) => Promise.all(calls.map(answerOf));

describe('the HTTP API limits, as the pusher SDK reports them', () => {
  const local = useLocalStack('http-limits', [LIMITED_APP, BACKEND_RATE_APP, READ_RATE_APP]);
  const sdk = () => serverSdk(local.stack, LIMITED_APP);

  it('answers data over MaxEventPayloadInKb with 413, counting UTF-8 bytes as sent', async () => {
    const exactly = 'x'.repeat(1024);
    // 513 two-byte characters: 513 characters, 1026 bytes.
    const multiByte = 'é'.repeat(513);

    expect(await jsonOf(sdk().trigger('e2e-payload', 'fits', exactly))).toEqual({});
    expect(await refusalOf(sdk().trigger('e2e-payload', 'big', `${exactly}x`))).toEqual({
      status: 413,
      body: 'data is 1025 bytes, over the allowed maximum of 1024 bytes (MaxEventPayloadInKb 1).',
    });
    expect(await refusalOf(sdk().trigger('e2e-payload', 'big', multiByte))).toEqual({
      status: 413,
      body: 'data is 1026 bytes, over the allowed maximum of 1024 bytes (MaxEventPayloadInKb 1).',
    });
    expect(
      await refusalOf(
        sdk().triggerBatch([
          { channel: 'e2e-payload', name: 'small', data: 'x' },
          { channel: 'e2e-payload', name: 'big', data: `${exactly}x` },
        ]),
      ),
    ).toEqual({
      status: 413,
      body: expect.stringContaining('1025 bytes, over the allowed maximum of 1024 bytes'),
    });
  });

  it('answers a batch over MaxEventBatchSize with 400', async () => {
    const event = (n: number) => ({ channel: 'e2e-batch', name: `event-${n}`, data: String(n) });

    expect(await jsonOf(sdk().triggerBatch([event(1), event(2)]))).toEqual({});
    expect(await refusalOf(sdk().triggerBatch([event(1), event(2), event(3)]))).toEqual({
      status: 400,
      body: 'Cannot batch-send 3 events: MaxEventBatchSize is 2.',
    });
  });

  it('answers more channels than MaxEventChannelsAtOnce with 400', async () => {
    const channels = ['e2e-at-once-1', 'e2e-at-once-2', 'e2e-at-once-3', 'e2e-at-once-4'];

    expect(await jsonOf(sdk().trigger(channels.slice(0, 3), 'news', {}))).toEqual({});
    expect(await refusalOf(sdk().trigger(channels, 'news', {}))).toEqual({
      status: 400,
      body: 'channels: 4 given, MaxEventChannelsAtOnce is 3.',
    });
  });

  it('answers an event name over MaxEventNameLength with 400, naming the name and the limit', async () => {
    const name = 'e'.repeat(21);

    expect(await jsonOf(sdk().trigger('e2e-names', 'e'.repeat(20), {}))).toEqual({});
    const refusal = await refusalOf(sdk().trigger('e2e-names', name, {}));

    expect(refusal).toEqual({ status: 400, body: expect.stringContaining(name) });
    expectToNameTheLimit(refusal, 20);
  });

  it('answers a channel name over MaxChannelNameLength with 400, naming the channel and the limit', async () => {
    const channel = `private-${'c'.repeat(23)}`;

    expect(await jsonOf(sdk().trigger(channel.slice(0, 30), 'fits', {}))).toEqual({});
    const refusal = await refusalOf(sdk().trigger(channel, 'too-long', {}));

    expect(refusal).toEqual({ status: 400, body: expect.stringContaining(channel) });
    expectToNameTheLimit(refusal, 30);
  });

  it('answers events past MaxBackendEventsPerSecond (one point per channel) with 429, and one that never fits with 400', async () => {
    const backend = serverSdk(local.stack, BACKEND_RATE_APP);
    const channels = ['e2e-rate-1', 'e2e-rate-2', 'e2e-rate-3'];

    // More points in one request than the app may spend in a second can never be admitted: not "retry" but "split".
    const tooMany = await refusalOf(backend.trigger([...channels, 'e2e-rate-4'], 'news', {}));
    // Each takes the whole second's budget: of four, in at most two windows, at least two are refused.
    const answers = await settle([1, 2, 3, 4].map(() => backend.trigger(channels, 'news', {})));

    const overTheRate = { status: 429, body: expect.stringContaining('MaxBackendEventsPerSecond') };
    expect(tooMany).toEqual({
      status: 400,
      body: `This request needs 4 points; the app's limit is ${BACKEND_RATE} per second (MaxBackendEventsPerSecond), so it can never be admitted.`,
    });
    const { accepted, refused } = sorted(answers);
    expect(accepted.length).toBeGreaterThan(0);
    expect(accepted.map(parsed)).toEqual(accepted.map(() => ({ status: 200, body: {} })));
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(refused).toEqual(refused.map(() => overTheRate));
  });

  it('answers reads past MaxReadRequestsPerSecond with 429', async () => {
    const reader = serverSdk(local.stack, READ_RATE_APP);

    const answers = await settle(
      Array.from({ length: BURST }, () => reader.get({ path: '/channels/e2e-read-rate' })),
    );

    const { accepted, refused } = sorted(answers);
    expect(accepted.length).toBeGreaterThan(0);
    expect(accepted.map(parsed)).toEqual(accepted.map(() => ({ status: 200, body: { occupied: false } })));
    expect(refused.length).toBeGreaterThanOrEqual(BURST - 2 * READ_RATE);
    const overTheRate = { status: 429, body: expect.stringContaining('MaxReadRequestsPerSecond') };
    expect(refused).toEqual(refused.map(() => overTheRate));
  });
});

/** The answers split into what was accepted (any 2xx) and what was refused. */
function sorted(answers: readonly Answer[]) {
  return {
    accepted: answers.filter(({ status }) => status < 300),
    refused: answers.filter(({ status }) => status >= 300),
  };
}

const parsed = ({ status, body }: Answer) => ({ status, body: JSON.parse(body) as unknown });

function expectToNameTheLimit(refusal: Answer, limit: number): void {
  expect(refusal.body).toMatch(new RegExp(`\\b${limit}\\b`));
}
