import { describe, expect, it } from 'vitest';
import {
  channelOccupied,
  channelVacated,
  clientEventWebhook,
  DEPARTURE_DELAY_SECONDS,
  memberRemoved,
} from '../../../src/webhooks/events.js';
import { decodeInterest, encodeInterest, interestOf, NO_INTEREST } from '../../../src/webhooks/interest.js';
import { parseWebhookMessage } from '../../../src/webhooks/messages.js';
import { flushOutbox, WebhookOutbox } from '../../../src/webhooks/outbox.js';
import { batchesOf, type QueueEntry, type WebhookQueue } from '../../../src/webhooks/queue.js';
import { testApp } from '../../fixtures/apps/items.js';
import { recordingLogger } from '../../support/recording-logger.js';

const ALL = decodeInterest('channel_occupied,channel_vacated,member_added,member_removed,client_event');

describe('interest', () => {
  it("is the union of the webhooks' event types, and travels as a comma list that reads back the same", () => {
    const app = testApp('i', {
      webhooks: [
        { url: 'https://a.example', eventTypes: ['member_added', 'channel_vacated'] },
        { lambdaFunction: 'f', eventTypes: ['client_event', 'member_added'] },
      ],
    });
    const interest = interestOf(app);
    expect([...interest].sort()).toEqual(['channel_vacated', 'client_event', 'member_added']);
    expect(encodeInterest(interest)).toBe('channel_vacated,member_added,client_event');
    expect(decodeInterest(encodeInterest(interest))).toEqual(interest);
    expect(interestOf(app)).toBe(interest);
  });

  it('is empty for an app without webhooks, for nothing and for names it does not know', () => {
    expect(interestOf(testApp('none', { webhooks: [] }))).toBe(NO_INTEREST);
    expect(decodeInterest(undefined).size).toBe(0);
    expect(decodeInterest('')).toBe(NO_INTEREST);
    expect([...decodeInterest('member_added,from_the_future')]).toEqual(['member_added']);
  });
});

describe('WebhookOutbox', () => {
  const clock = () => 1_700_000_000_000;

  it('drops what the app has no webhook for, and #server-to-user channels: no queue call at all', async () => {
    const outbox = new WebhookOutbox(clock);
    outbox.raise('a', NO_INTEREST, channelOccupied('c'));
    outbox.raise('a', decodeInterest('member_added'), channelOccupied('c'));
    // Sending to a user rides on these channels; they are no channels of the app's own.
    outbox.raise('a', ALL, channelOccupied('#server-to-user-42'));
    expect(outbox.isEmpty).toBe(true);
    let calls = 0;
    await flushOutbox(outbox, { send: async () => ({ failed: calls++ }) }, recordingLogger());
    expect(calls).toBe(0);
  });

  it('packs one operation into one message per app, departures apart with the 3 s delay, in raise order', () => {
    const outbox = new WebhookOutbox(clock);
    for (let i = 0; i < 100; i++) outbox.raise('a', ALL, channelVacated(`ch-${i}`));
    outbox.raise('a', ALL, memberRemoved('presence-x', 'u1'));
    outbox.raise('a', ALL, clientEventWebhook('private-c', 'client-x', { a: 1 }, '1.2', undefined));
    outbox.raise('b', ALL, channelOccupied('other'));

    const entries = outbox.drain();
    expect(entries).toHaveLength(3);
    const [now, later, other] = entries.map((entry) => ({
      entry,
      message: parseWebhookMessage(entry.body)!,
    }));
    expect(now!.entry.delaySeconds).toBeUndefined();
    expect(now!.message).toMatchObject({ v: 1, type: 'raised', appId: 'a', timeMs: clock() });
    expect(later!.entry.delaySeconds).toBe(DEPARTURE_DELAY_SECONDS);
    const departures = later!.message.events as unknown as { at: number }[];
    expect(departures).toHaveLength(101);
    expect(departures.map(({ at }) => at)).toEqual([...departures.map(({ at }) => at)].sort((x, y) => x - y));
    expect(new Set(departures.map(({ at }) => at)).size).toBe(101);
    expect(other!.message).toMatchObject({ appId: 'b', events: [{ event: { name: 'channel_occupied' } }] });
  });

  it('splits past the size of a message, and batches past 10 entries or 256 KiB', () => {
    const outbox = new WebhookOutbox(clock);
    const data = 'x'.repeat(30_000);
    for (let i = 0; i < 20; i++)
      outbox.raise('a', ALL, clientEventWebhook('private-c', 'client-x', data, '1.2', undefined));
    const entries = outbox.drain();
    expect(entries.length).toBeGreaterThan(1);
    for (const entry of entries) expect(Buffer.byteLength(entry.body)).toBeLessThan(256 * 1024);
    const many: QueueEntry[] = Array.from({ length: 23 }, () => ({ body: '{}' }));
    expect(batchesOf(many).map((batch) => batch.length)).toEqual([10, 10, 3]);
    const big: QueueEntry[] = Array.from({ length: 3 }, () => ({ body: 'x'.repeat(100 * 1024) }));
    expect(batchesOf(big).map((batch) => batch.length)).toEqual([2, 1]);
  });

  it('never throws when the queue fails or refuses entries: it logs counts, never the events', async () => {
    const outbox = new WebhookOutbox(clock);
    outbox.raise(
      'a',
      ALL,
      clientEventWebhook('private-c', 'client-x', 'top secret payload', '1.2', undefined),
    );
    const logger = recordingLogger();
    const failing: WebhookQueue = {
      send: async () => {
        throw new Error('SQS is down');
      },
    };
    await expect(flushOutbox(outbox, failing, logger)).resolves.toBeUndefined();
    outbox.raise(
      'a',
      ALL,
      clientEventWebhook('private-c', 'client-x', 'top secret payload', '1.2', undefined),
    );
    await flushOutbox(outbox, { send: async () => ({ failed: 1 }) }, logger);
    expect(logger.records.map(({ message }) => message)).toEqual([
      'webhook events not enqueued',
      'webhook events not enqueued',
    ]);
    expect(JSON.stringify(logger.records)).not.toContain('top secret payload');
  });

  it('sends each event once: a flush takes what was raised since the last one', async () => {
    const outbox = new WebhookOutbox(clock);
    const { sent, queue } = recordingQueue();
    outbox.raise('a', ALL, clientEventWebhook('private-c', 'client-1', '1', '1.2', undefined));
    await flushOutbox(outbox, queue, recordingLogger());
    await flushOutbox(outbox, queue, recordingLogger());

    expect(sent).toHaveLength(1);
    expect(outbox.isEmpty).toBe(true);
  });

  it('sends what work raises after its enqueue soon after, once per burst, instead of dropping it', async () => {
    const outbox = new WebhookOutbox(clock);
    const { sent, queue } = recordingQueue();
    await flushOutbox(outbox, queue, recordingLogger());
    outbox.sendLaterRaisesWith(() => void flushOutbox(outbox, queue, recordingLogger()));

    // A late take-back: the channel it had occupied is vacated, after the invocation's enqueue.
    outbox.raise('a', ALL, channelOccupied('late'));
    outbox.raise('a', ALL, channelVacated('late'));
    await new Promise((resolve) => setImmediate(resolve));

    expect(sent).toHaveLength(1);
    expect(sent[0]!.map((entry) => entry.delaySeconds)).toEqual([undefined, DEPARTURE_DELAY_SECONDS]);
    expect(sent[0]!.map((entry) => JSON.parse(entry.body).events.length)).toEqual([1, 1]);
  });
});

/** A queue that takes everything and records each `send`'s entries. */
function recordingQueue(): { readonly sent: QueueEntry[][]; readonly queue: WebhookQueue } {
  const sent: QueueEntry[][] = [];
  const queue: WebhookQueue = {
    send: async (entries) => {
      sent.push([...entries]);
      return { failed: 0 };
    },
  };
  return { sent, queue };
}
