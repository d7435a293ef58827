import { describe, expect, it } from 'vitest';
import { MAX_CLIENT_EVENT_DATA_DEPTH, parseClientMessage } from '../../../src/websocket/messages.js';

describe('parseClientMessage', () => {
  it('reads pusher:ping', () => {
    expect(parseClientMessage('{"event":"pusher:ping","data":{}}')).toEqual({ kind: 'ping' });
  });

  it('reads a public subscription as pusher-js sends it (auth "")', () => {
    expect(parseClientMessage('{"event":"pusher:subscribe","data":{"auth":"","channel":"news"}}')).toEqual({
      kind: 'subscribe',
      channel: 'news',
      auth: undefined,
      channelData: undefined,
    });
  });

  it('keeps channel_data exactly as sent, for the signature', () => {
    const channelData = '{"user_id":10, "user_info":{"name":"Mr. Pusher"}}';
    const message = parseClientMessage(
      JSON.stringify({
        event: 'pusher:subscribe',
        data: { auth: 'k:s', channel_data: channelData, channel: 'presence-a' },
      }),
    );
    expect(message).toEqual({ kind: 'subscribe', channel: 'presence-a', auth: 'k:s', channelData });
  });

  it('accepts data sent as a JSON string, as some clients do', () => {
    expect(
      parseClientMessage(JSON.stringify({ event: 'pusher:unsubscribe', data: '{"channel":"news"}' })),
    ).toEqual({
      kind: 'unsubscribe',
      channel: 'news',
    });
  });

  it('treats null auth and channel_data as absent', () => {
    expect(
      parseClientMessage(
        '{"event":"pusher:subscribe","data":{"channel":"news","auth":null,"channel_data":null}}',
      ),
    ).toMatchObject({ kind: 'subscribe', auth: undefined, channelData: undefined });
  });

  it('reads pusher:signin', () => {
    expect(
      parseClientMessage('{"event":"pusher:signin","data":{"auth":"k:s","user_data":"{\\"id\\":\\"1\\"}"}}'),
    ).toEqual({
      kind: 'signin',
      auth: 'k:s',
      userData: '{"id":"1"}',
    });
  });

  it('passes client events on whole, data untouched', () => {
    expect(parseClientMessage('{"event":"client-typing","channel":"private-a","data":{"x":[1]}}')).toEqual({
      kind: 'client-event',
      event: 'client-typing',
      channel: 'private-a',
      data: { x: [1] },
    });
  });

  it.each([
    ['no body', undefined],
    ['invalid JSON', '{"event":'],
    ['a JSON array', '[1,2]'],
    ['a JSON string', '"pusher:ping"'],
    ['no event', '{"data":{}}'],
    ['an empty event', '{"event":""}'],
    ['a numeric event', '{"event":7}'],
    ['an unknown pusher event', '{"event":"pusher:cache_miss"}'],
    ['a server-only event', '{"event":"pusher_internal:member_added"}'],
    ['a subscribe without data', '{"event":"pusher:subscribe"}'],
    ['a subscribe with a numeric channel', '{"event":"pusher:subscribe","data":{"channel":5}}'],
    ['a subscribe with object auth', '{"event":"pusher:subscribe","data":{"channel":"a","auth":{}}}'],
    ['an unsubscribe without a channel', '{"event":"pusher:unsubscribe","data":{}}'],
    ['a signin without auth', '{"event":"pusher:signin","data":{"user_data":"{}"}}'],
  ])('turns %s into an invalid message with a reason', (_, body) => {
    expect(parseClientMessage(body)).toEqual({ kind: 'invalid', reason: expect.any(String) });
  });

  it('quotes at most 100 characters of an unknown event name', () => {
    const message = parseClientMessage(JSON.stringify({ event: `pusher:${'x'.repeat(1000)}` }));
    expect(message.kind === 'invalid' && message.reason.length).toBeLessThan(150);
  });

  it(`refuses client-event data nested deeper than ${MAX_CLIENT_EVENT_DATA_DEPTH} levels, which a 32 KB frame can hold 16,000 of`, () => {
    const nested = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
    const deepest = `{"event":"client-x","channel":"private-a","data":${nested(16_000)}}`;

    expect(parseClientMessage(deepest)).toEqual({
      kind: 'invalid',
      reason: `The event's data nests deeper than ${MAX_CLIENT_EVENT_DATA_DEPTH} levels`,
    });
    const fits = parseClientMessage(
      `{"event":"client-x","channel":"private-a","data":${nested(MAX_CLIENT_EVENT_DATA_DEPTH)}}`,
    );
    expect(fits.kind).toBe('client-event');
    expect(() => JSON.stringify(fits)).not.toThrow();
  });
});
