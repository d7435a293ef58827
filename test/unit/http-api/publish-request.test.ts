import { describe, expect, it } from 'vitest';
import { BadRequestError, PayloadTooLargeError } from '../../../src/errors/errors.js';
import {
  backendEventPoints,
  parseBatchBody,
  parseTriggerBody,
} from '../../../src/http-api/publish-request.js';
import { testApp } from '../../fixtures/apps/items.js';

const app = testApp('app-id', {
  maxEventChannelsAtOnce: 3,
  maxEventNameLength: 10,
  maxChannelNameLength: 20,
  maxEventPayloadInKb: 1,
  maxEventBatchSize: 2,
});

describe('parseTriggerBody', () => {
  it('accepts one channel or several, with socket_id and info', () => {
    expect(parseTriggerBody({ name: 'e', data: '{}', channel: 'a' }, app)).toEqual({
      name: 'e',
      data: '{}',
      channels: ['a'],
      socketId: undefined,
      info: [],
    });
    expect(
      parseTriggerBody(
        { name: 'e', data: 'x', channels: ['a', 'presence-b'], socket_id: '123.456', info: 'user_count' },
        app,
      ),
    ).toMatchObject({ channels: ['a', 'presence-b'], socketId: '123.456', info: ['user_count'] });
  });

  it('accepts the server-to-user channel that sendToUser publishes to', () => {
    expect(parseTriggerBody({ name: 'e', data: 'x', channel: '#server-to-user-42' }, app).channels).toEqual([
      '#server-to-user-42',
    ]);
  });

  it.each([
    [{ data: 'x', channel: 'a' }, /name is required/],
    [{ name: 'e', channel: 'a' }, /data is required/],
    [{ name: 'e', data: { not: 'a string' }, channel: 'a' }, /data is required and must be a string/],
    [{ name: 'e', data: 'x' }, /channel or channels is required/],
    [{ name: 'e', data: 'x', channels: [] }, /non-empty array/],
    [{ name: 'e', data: 'x', channels: ['a', 'b', 'c', 'd'] }, /4 given, MaxEventChannelsAtOnce is 3/],
    [{ name: 'e', data: 'x', channel: 'bad channel' }, /channel/],
    [{ name: 'e', data: 'x', channel: 'c'.repeat(21) }, /20/],
    [{ name: 'e'.repeat(11), data: 'x', channel: 'a' }, /10/],
    [{ name: 'e', data: 'x', channel: 'a', socket_id: '1.1\n' }, /not a valid socket id/],
    [{ name: 'e', data: 'x', channel: 'a', info: 'cache' }, /unknown attribute "cache"/],
    [{ name: 'e', data: 'x', channels: ['private-encrypted-a', 'b'] }, /encrypted channel/],
    ['a string', /must be a JSON object/],
  ])('refuses %j with 400', (body, message) => {
    expect(() => parseTriggerBody(body, app)).toThrowError(BadRequestError);
    expect(() => parseTriggerBody(body, app)).toThrowError(message);
  });

  it('answers 413 for data over MaxEventPayloadInKb, counting UTF-8 bytes as sent', () => {
    const fits = 'é'.repeat(512);
    expect(parseTriggerBody({ name: 'e', data: fits, channel: 'a' }, app).data).toBe(fits);
    const tooBig = `${fits}x`;
    expect(() => parseTriggerBody({ name: 'e', data: tooBig, channel: 'a' }, app)).toThrowError(
      PayloadTooLargeError,
    );
    expect(() => parseTriggerBody({ name: 'e', data: tooBig, channel: 'a' }, app)).toThrowError(
      'data is 1025 bytes, over the allowed maximum of 1024 bytes (MaxEventPayloadInKb 1)',
    );
  });
});

describe("the WebSocket frame budget (128,000 bytes, API Gateway's limit)", () => {
  const roomy = testApp('app-id', { maxEventPayloadInKb: 100 });

  it('refuses with 413 data under MaxEventPayloadInKb whose frame escapes past the budget: 70 KB of quotes', () => {
    const quotes = '"'.repeat(70_000);
    expect(() => parseTriggerBody({ name: 'e', data: quotes, channel: 'a' }, roomy)).toThrowError(
      PayloadTooLargeError,
    );
    expect(() => parseTriggerBody({ name: 'e', data: quotes, channel: 'a' }, roomy)).toThrowError(
      /frame would be 1400\d\d bytes \(its data JSON-escaped inside it\), over API Gateway's limit of 128000 bytes/,
    );
    const unlimited = testApp('app-id', { maxEventPayloadInKb: Number.POSITIVE_INFINITY });
    expect(() =>
      parseTriggerBody({ name: 'e', data: 'x'.repeat(128_001), channel: 'a' }, unlimited),
    ).toThrowError(PayloadTooLargeError);
  });

  it('counts the frame of the longest channel of a multi-channel event, and lets a frame at the limit through', () => {
    const overhead = '{"event":"e","channel":"a","data":""}'.length;
    const exact = 'x'.repeat(128_000 - overhead);
    expect(
      parseTriggerBody(
        { name: 'e', data: exact, channel: 'a' },
        testApp('app-id', { maxEventPayloadInKb: 200 }),
      ).data,
    ).toBe(exact);
    expect(() =>
      parseTriggerBody(
        { name: 'e', data: exact, channels: ['a', 'bb'] },
        testApp('app-id', { maxEventPayloadInKb: 200 }),
      ),
    ).toThrowError(PayloadTooLargeError);
  });
});

describe('limits of 0 allow nothing', () => {
  it('refuses even empty data when MaxEventPayloadInKb is 0', () => {
    const closed = testApp('app-id', { maxEventPayloadInKb: 0 });
    expect(() => parseTriggerBody({ name: 'e', data: '', channel: 'a' }, closed)).toThrowError(
      PayloadTooLargeError,
    );
  });

  it('refuses any channel, name or batch when their limit is 0', () => {
    const event = { name: 'e', data: 'x', channel: 'a' };
    expect(() => parseTriggerBody(event, testApp('app-id', { maxEventChannelsAtOnce: 0 }))).toThrowError(
      BadRequestError,
    );
    expect(() => parseTriggerBody(event, testApp('app-id', { maxEventNameLength: 0 }))).toThrowError(
      BadRequestError,
    );
    expect(() => parseTriggerBody(event, testApp('app-id', { maxChannelNameLength: 0 }))).toThrowError(
      BadRequestError,
    );
    expect(() =>
      parseBatchBody({ batch: [event] }, testApp('app-id', { maxEventBatchSize: 0 })),
    ).toThrowError(BadRequestError);
  });
});

describe('parseBatchBody', () => {
  it('parses every item and counts one point per channel per event', () => {
    const events = parseBatchBody(
      {
        batch: [
          { name: 'a', data: 'x', channel: 'one' },
          { name: 'b', data: 'y', channels: ['one', 'two'] },
        ],
      },
      app,
    );
    expect(events.map((e) => e.name)).toEqual(['a', 'b']);
    expect(backendEventPoints(events)).toBe(3);
  });

  it('refuses a batch over MaxEventBatchSize, naming the limit and the size', () => {
    const item = { name: 'a', data: 'x', channel: 'one' };
    expect(() => parseBatchBody({ batch: [item, item, item] }, app)).toThrowError(
      'Cannot batch-send 3 events: MaxEventBatchSize is 2.',
    );
  });

  it('names the bad item', () => {
    expect(() =>
      parseBatchBody({ batch: [{ name: 'a', data: 'x', channel: 'one' }, { name: 'b' }] }, app),
    ).toThrowError(/^batch\[1\]\.data is required/);
  });

  it.each([[{}], [{ batch: 'x' }], [{ batch: [] }], [[1]]])('refuses %j', (body) => {
    expect(() => parseBatchBody(body, app)).toThrowError(BadRequestError);
  });
});
