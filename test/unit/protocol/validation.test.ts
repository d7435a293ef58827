import { describe, expect, it } from 'vitest';
import { UNLIMITED } from '../../../src/apps/app.js';
import {
  channelType,
  isCacheChannel,
  isValidSocketId,
  parsePresenceChannelData,
  validateChannelName,
  validateEventName,
} from '../../../src/protocol/index.js';

describe('isValidSocketId', () => {
  it.each(['123.456', '1.1', '0.0', '9999999999.9999999999'])('accepts %j', (socketId) => {
    expect(isValidSocketId(socketId)).toBe(true);
  });

  it.each([
    '1.1:',
    ':1.1',
    ':\n1.1',
    '1.1\n:',
    '1.1\n',
    '12341234',
    '',
    '1.',
    '.1',
    '1.1.1',
    'a.1',
    ' 1.1',
    '١.١',
  ])('rejects %j, as the SDK test suites do', (socketId) => {
    expect(isValidSocketId(socketId)).toBe(false);
  });

  it('rejects non-strings', () => {
    expect(isValidSocketId(1.1)).toBe(false);
    expect(isValidSocketId(undefined)).toBe(false);
  });
});

describe('validateChannelName', () => {
  it.each(['my-channel', 'private-a_b=c@d,e.f;g', 'presence-room', 'private-encrypted-x', 'A-Z09'])(
    'accepts %j',
    (name) => {
      expect(validateChannelName(name, 200)).toEqual({ ok: true });
    },
  );

  it('counts the prefix in the length and names the limit and the length', () => {
    const name = `private-${'a'.repeat(192)}`;
    expect(validateChannelName(name, 200)).toEqual({ ok: true });
    expect(validateChannelName(`${name}b`, 200)).toEqual({
      ok: false,
      reason: `Channel name "private-${'a'.repeat(92)}…" is too long: 201 characters, the limit is 200`,
    });
    expect(validateChannelName('a'.repeat(165), 164)).toMatchObject({ ok: false });
    expect(validateChannelName('a'.repeat(100_000), UNLIMITED)).toEqual({ ok: true });
    expect(validateChannelName('a', 0)).toEqual({
      ok: false,
      reason: 'Channel name "a" is too long: 1 characters, the limit is 0',
    });
  });

  it.each(['a b', 'a/b', 'a:b', 'é', 'a%20b', 'a+b', 'a\nb', 'private-😀'])(
    'rejects the character in %j',
    (name) => {
      expect(validateChannelName(name, 200)).toEqual({
        ok: false,
        reason: `Invalid channel name ${JSON.stringify(name)}: only A-Z a-z 0-9 _ - = @ , . ; are allowed`,
      });
    },
  );

  it.each([undefined, '', 42])('rejects %j as not a non-empty string', (name) => {
    expect(validateChannelName(name, 200)).toEqual({
      ok: false,
      reason: 'Channel name must be a non-empty string',
    });
  });

  it('reserves #: #server-to-user-<id> passes only where allowed', () => {
    expect(validateChannelName('#server-to-user-42', 200)).toEqual({
      ok: false,
      reason: 'Invalid channel name "#server-to-user-42": names starting with "#" are reserved',
    });
    expect(validateChannelName('#server-to-user-42', 200, { allowServerToUser: true })).toEqual({ ok: true });
  });

  it.each(['#server-to-user-', '#server-to-user-a b', '#other', '#server-to-user-a#b'])(
    'rejects %j even where server-to-user channels are allowed',
    (name) => {
      expect(validateChannelName(name, 200, { allowServerToUser: true })).toEqual({
        ok: false,
        reason: `Invalid channel name ${JSON.stringify(name)}: the only "#" channel is #server-to-user-<user id>`,
      });
    },
  );

  it('applies the length limit to server-to-user channels too', () => {
    expect(validateChannelName('#server-to-user-42', 17, { allowServerToUser: true })).toMatchObject({
      ok: false,
    });
  });
});

describe('validateEventName', () => {
  it('accepts up to the limit and names the limit beyond it', () => {
    expect(validateEventName('a'.repeat(200), 200)).toEqual({ ok: true });
    expect(validateEventName('client-my event/é', 200)).toEqual({ ok: true });
    expect(validateEventName('a'.repeat(201), 200)).toEqual({
      ok: false,
      reason: `Event name "${'a'.repeat(100)}…" is too long: 201 characters, the limit is 200`,
    });
  });

  it.each(['', undefined, 7])('rejects %j', (name) => {
    expect(validateEventName(name, 200)).toEqual({
      ok: false,
      reason: 'Event name must be a non-empty string',
    });
  });
});

describe('channelType and isCacheChannel', () => {
  it.each([
    ['my-channel', 'public', false],
    ['cache-x', 'public', true],
    ['private-x', 'private', false],
    ['private-cache-x', 'private', true],
    ['private-encrypted-x', 'private-encrypted', false],
    ['private-encrypted-cache-x', 'private-encrypted', true],
    ['presence-x', 'presence', false],
    ['presence-cache-x', 'presence', true],
    ['#server-to-user-42', 'server-to-user', false],
    ['privatex', 'public', false],
    ['Private-x', 'public', false],
  ])('%s is %s (cache: %s)', (name, type, cache) => {
    expect(channelType(name)).toBe(type);
    expect(isCacheChannel(name)).toBe(cache);
  });
});

describe('parsePresenceChannelData', () => {
  it('normalizes a numeric user_id to a string and keeps user_info', () => {
    expect(parsePresenceChannelData('{"user_id":10,"user_info":{"name":"Mr. Pusher"}}', 2)).toEqual({
      ok: true,
      member: { userId: '10', userInfo: { name: 'Mr. Pusher' } },
    });
    expect(parsePresenceChannelData('{"user_id":"abc"}', 2)).toEqual({ ok: true, member: { userId: 'abc' } });
  });

  it.each(['not json', '[1]', 'null', '"x"', undefined])('reports invalid-json for %j', (channelData) => {
    expect(parsePresenceChannelData(channelData, 2)).toEqual({
      ok: false,
      problem: 'invalid-json',
      reason: 'channel_data must be a JSON object string',
    });
  });

  it.each([
    '{}',
    '{"user_id":""}',
    '{"user_id":null}',
    '{"user_id":true}',
    '{"user_id":{"a":1}}',
    '{"user_id":[1]}',
  ])('reports invalid-user-id for %s', (channelData) => {
    expect(parsePresenceChannelData(channelData, 2)).toEqual({
      ok: false,
      problem: 'invalid-user-id',
      reason: 'channel_data.user_id must be a non-empty string or a number',
    });
  });

  it('limits the serialized user_info to maxSizeInKb, the limit itself included', () => {
    const withInfo = (bytes: number) => JSON.stringify({ user_id: 1, user_info: 'x'.repeat(bytes - 2) });
    expect(parsePresenceChannelData(withInfo(1024), 1)).toMatchObject({ ok: true });
    expect(parsePresenceChannelData(withInfo(1025), 1)).toEqual({
      ok: false,
      problem: 'too-large',
      reason: "The presence member's user_info is 1025 bytes; the maximum size for a channel member is 1 KB",
    });
    expect(parsePresenceChannelData(withInfo(100_000), UNLIMITED)).toMatchObject({ ok: true });
  });

  it('counts UTF-8 bytes, and with a limit of 0 allows no user_info at all', () => {
    expect(
      parsePresenceChannelData(JSON.stringify({ user_id: 1, user_info: 'é'.repeat(512) }), 1),
    ).toMatchObject({
      ok: false,
      problem: 'too-large',
    });
    expect(parsePresenceChannelData('{"user_id":1}', 0)).toMatchObject({ ok: true });
    expect(parsePresenceChannelData('{"user_id":1,"user_info":{}}', 0)).toMatchObject({ ok: false });
  });
});
