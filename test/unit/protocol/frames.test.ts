import { describe, expect, it } from 'vitest';
import {
  ACTIVITY_TIMEOUT_SECONDS,
  connectionEstablished,
  encodeFrame,
  isRefusalCode,
  memberAdded,
  memberRemoved,
  presenceSubscriptionSucceeded,
  pusherError,
  REFUSAL_CODES,
  refusal,
  signinSuccess,
  subscriptionError,
  subscriptionSucceeded,
} from '../../../src/protocol/frames.js';

describe('frames', () => {
  it('sends the handshake data as a JSON string, with a non-zero activity timeout of at most 120 s', () => {
    expect(encodeFrame(connectionEstablished('123.456'))).toBe(
      '{"event":"pusher:connection_established","data":"{\\"socket_id\\":\\"123.456\\",\\"activity_timeout\\":120}"}',
    );
    expect(ACTIVITY_TIMEOUT_SECONDS).toBeGreaterThan(0);
    // pusher-js uses min(120, server value); API Gateway closes idle connections after 600 s.
    expect(ACTIVITY_TIMEOUT_SECONDS).toBeLessThanOrEqual(120);
  });

  it.each([
    [REFUSAL_CODES.unknownApp, 'Application does not exist'],
    [REFUSAL_CODES.appDisabled, 'Application disabled'],
    [REFUSAL_CODES.overConnectionQuota, 'Application is over connection quota'],
    [REFUSAL_CODES.invalidProtocol, 'Invalid version string format'],
    [REFUSAL_CODES.unsupportedProtocol, 'Unsupported protocol version'],
  ])('refuses with code %i, in the range pusher-js stops reconnecting for', (code, message) => {
    expect(refusal(code)).toEqual({ event: 'pusher:error', data: { code, message } });
    expect(code).toBeGreaterThanOrEqual(4000);
    expect(code).toBeLessThan(4100);
    expect(isRefusalCode(code)).toBe(true);
  });

  it.each([4000, 4002, 4100, '4001', undefined])('does not take %j for a refusal code', (value) => {
    expect(isRefusalCode(value)).toBe(false);
  });

  it('sends an error that keeps the connection with code null, as Pusher does', () => {
    expect(encodeFrame(pusherError('Bad', null))).toBe(
      '{"event":"pusher:error","data":{"code":null,"message":"Bad"}}',
    );
  });

  it('sends subscription errors on the channel, shaped as pusher-js reports auth endpoint failures', () => {
    expect(subscriptionError('private-a', 'AuthError', 'nope', 401)).toEqual({
      event: 'pusher:subscription_error',
      channel: 'private-a',
      data: { type: 'AuthError', error: 'nope', status: 401 },
    });
  });

  it('answers a subscription with data "{}" (a JSON string)', () => {
    expect(subscriptionSucceeded('news')).toEqual({
      event: 'pusher_internal:subscription_succeeded',
      channel: 'news',
      data: '{}',
    });
  });

  it('sends signin_success with user_data exactly as signed', () => {
    const userData = '{"id":"1", "user_info":{}}';
    expect(signinSuccess(userData)).toEqual({
      event: 'pusher:signin_success',
      data: { user_data: userData },
    });
  });
});

describe('presence rosters', () => {
  const roster = (members: Parameters<typeof presenceSubscriptionSucceeded>[1]) =>
    JSON.parse(presenceSubscriptionSucceeded('presence-a', members).data as string);

  it('lists ids, the id → user_info hash and the count, as pusher-js Members reads them', () => {
    expect(
      roster([
        { userId: 'b', userInfo: { name: 'Bob' } },
        { userId: 'a', userInfo: ['x'] },
      ]),
    ).toEqual({ presence: { ids: ['a', 'b'], hash: { a: ['x'], b: { name: 'Bob' } }, count: 2 } });
  });

  it('keeps a member without user_info in the hash as null (pusher-js looks members up with hasOwnProperty)', () => {
    const { presence } = roster([{ userId: '7', userInfo: undefined }]);
    expect(Object.hasOwn(presence.hash, '7')).toBe(true);
    expect(presence.hash['7']).toBeNull();
  });

  it('counts a user once', () => {
    expect(
      roster([
        { userId: 'a', userInfo: 1 },
        { userId: 'a', userInfo: 2 },
      ]).presence,
    ).toMatchObject({ ids: ['a'], count: 1 });
  });

  it('is an empty roster for no members', () => {
    expect(roster([])).toEqual({ presence: { ids: [], hash: {}, count: 0 } });
  });

  it('announces members with data as JSON strings, user_info only when there is one', () => {
    expect(memberAdded('presence-a', { userId: '1', userInfo: { n: 1 } }).data).toBe(
      '{"user_id":"1","user_info":{"n":1}}',
    );
    expect(memberAdded('presence-a', { userId: '1', userInfo: undefined }).data).toBe('{"user_id":"1"}');
    expect(memberRemoved('presence-a', '1')).toEqual({
      event: 'pusher_internal:member_removed',
      channel: 'presence-a',
      data: '{"user_id":"1"}',
    });
  });
});
