import { describe, expect, it } from 'vitest';
import { parseUserData, signUser, verifyUserAuth } from '../../../src/protocol/index.js';
import { DOCS_APP, DOCS_SOCKET_ID, DOCS_USER_SIGNIN } from '../../fixtures/protocol/vectors.js';

const app = { key: DOCS_APP.key, secret: DOCS_APP.secret };

describe('signUser and verifyUserAuth', () => {
  it('reproduces the docs signin vector', () => {
    expect(signUser({ ...app, socketId: DOCS_SOCKET_ID, userData: DOCS_USER_SIGNIN.userData })).toEqual({
      auth: DOCS_USER_SIGNIN.auth,
      user_data: DOCS_USER_SIGNIN.userData,
    });
  });

  it('verifies the docs vector and nothing else', () => {
    const input = {
      app,
      socketId: DOCS_SOCKET_ID,
      userData: DOCS_USER_SIGNIN.userData,
      auth: DOCS_USER_SIGNIN.auth,
    };
    expect(verifyUserAuth(input)).toBe(true);
    expect(verifyUserAuth({ ...input, userData: '{"id": "12345"}' })).toBe(false);
    expect(verifyUserAuth({ ...input, socketId: '1234.1235' })).toBe(false);
    expect(verifyUserAuth({ ...input, app: { ...app, secret: 'other' } })).toBe(false);
    expect(verifyUserAuth({ ...input, auth: DOCS_USER_SIGNIN.auth.replace(':', '::user::') })).toBe(false);
  });

  it('does not accept a channel authorization in place of a user authentication', () => {
    const channelStyle = signUser({ ...app, socketId: DOCS_SOCKET_ID, userData: 'user:x' });
    expect(
      verifyUserAuth({
        app,
        socketId: DOCS_SOCKET_ID,
        userData: DOCS_USER_SIGNIN.userData,
        auth: channelStyle.auth,
      }),
    ).toBe(false);
  });
});

describe('parseUserData', () => {
  it('returns the object with its id, user_info and watchlist as given', () => {
    const userData = '{"id":"user-1","user_info":{"name":"Ann"},"watchlist":["user-2"]}';
    expect(parseUserData(userData)).toEqual({
      ok: true,
      user: { id: 'user-1', user_info: { name: 'Ann' }, watchlist: ['user-2'] },
    });
  });

  it.each(['not json', '"a string"', '["id"]', 'null', '42', undefined, 42])(
    'reports invalid-json for %j',
    (userData) => {
      expect(parseUserData(userData)).toEqual({
        ok: false,
        problem: 'invalid-json',
        reason: 'user_data must be a JSON object string',
      });
    },
  );

  it.each([
    ['a missing id', '{}'],
    ['an empty id', '{"id":""}'],
    ['a numeric id', '{"id":12345}'],
    ['an id with a space', '{"id":"a b"}'],
    ['an id with #', '{"id":"a#b"}'],
    ['an id of 201 characters', JSON.stringify({ id: 'a'.repeat(201) })],
  ])('reports invalid-id for %s', (_, userData) => {
    const result = parseUserData(userData);
    expect(result).toMatchObject({ ok: false, problem: 'invalid-id' });
    expect(result.ok || result.reason).toBe(
      'user_data.id must be a non-empty string of at most 200 characters from A-Z a-z 0-9 _ - = @ , . ;',
    );
  });

  it('accepts an id of 200 characters from the whole character set', () => {
    const id = `${'-_=@,.;'}${'aZ9'.repeat(64)}a`;
    expect(id).toHaveLength(200);
    expect(parseUserData(JSON.stringify({ id }))).toMatchObject({ ok: true, user: { id } });
  });
});
