import { describe, expect, it } from 'vitest';
import { InvalidQueryStringError } from '../../../src/errors/errors.js';
import { parseQueryString } from '../../../src/protocol/index.js';
import { decodeQueryPairs } from '../../../src/protocol/query.js';

describe('parseQueryString', () => {
  it('percent-decodes keys and values as UTF-8', () => {
    expect({ ...parseQueryString('filter_by_prefix=presence-a%20b/%C3%A9&k%65y=%E2%9C%93') }).toEqual({
      filter_by_prefix: 'presence-a b/é',
      key: '✓',
    });
  });

  it('decodes + as a space (form encoding, as Java, ruby and python send it) and %2B as a plus', () => {
    expect({ ...parseQueryString('a=x+y&b=x%2By&c+d=1') }).toEqual({ a: 'x y', b: 'x+y', 'c d': '1' });
  });

  it('keeps literal characters the node SDK leaves unescaped', () => {
    expect({ ...parseQueryString('info=user_count,subscription_count&p=a/b:c@d;e') }).toEqual({
      info: 'user_count,subscription_count',
      p: 'a/b:c@d;e',
    });
  });

  it('collects k[] into an array in the order received, even once', () => {
    expect({ ...parseQueryString('channels[]=b&x=1&channels[]=a') }).toEqual({
      'channels[]': ['b', 'a'],
      x: '1',
    });
    expect({ ...parseQueryString('channels%5B%5D=a') }).toEqual({ 'channels[]': ['a'] });
  });

  it('turns a repeated plain key into an array so the verifier can reject it', () => {
    expect({ ...parseQueryString('a=1&a=2&a=3') }).toEqual({ a: ['1', '2', '3'] });
  });

  it('gives a key without = the empty value and skips empty segments', () => {
    expect({ ...parseQueryString('&a&&b=&c==d&') }).toEqual({ a: '', b: '', c: '=d' });
    expect({ ...parseQueryString('') }).toEqual({});
  });

  it('keeps keys exactly as sent, case included', () => {
    expect(Object.keys(parseQueryString('Auth_Key=1&auth_key=2'))).toEqual(['Auth_Key', 'auth_key']);
  });

  it('treats __proto__ and constructor as ordinary parameters', () => {
    const params = parseQueryString('__proto__=x&constructor=y');
    expect(Object.entries(params)).toEqual([
      ['__proto__', 'x'],
      ['constructor', 'y'],
    ]);
    expect(Object.getPrototypeOf(params)).toBeNull();
  });

  it.each(['%', '%4', '%zz', '%C3', '%C3%28', '%ED%A0%80'])(
    'throws a 400 error for the malformed escape %j',
    (bad) => {
      for (const raw of [`a=${bad}`, `${bad}=a`]) {
        expect(() => parseQueryString(raw)).toThrow(InvalidQueryStringError);
        expect(() => parseQueryString(raw)).toThrow(
          `Invalid query string: malformed percent-encoding in "${bad}"`,
        );
      }
      const error = (() => {
        try {
          parseQueryString(`a=${bad}`);
        } catch (caught) {
          return caught;
        }
      })();
      expect(error).toMatchObject({ status: 400 });
    },
  );

  it('shortens a long malformed value in the message', () => {
    expect(() => parseQueryString(`a=${'x'.repeat(500)}%`)).toThrow(`"${'x'.repeat(100)}…"`);
  });
});

describe('decodeQueryPairs', () => {
  it('lists the decoded pairs in order, repeated keys included', () => {
    expect(decodeQueryPairs('b=2&a=1&b=3&c')).toEqual(['b', '2', 'a', '1', 'b', '3', 'c', '']);
  });

  it('splits names without = correctly when a later segment has one', () => {
    const raw = `${Array.from({ length: 1000 }, (_, i) => `n${i}`).join('&')}&last=v`;
    const pairs = decodeQueryPairs(raw);
    expect(pairs).toHaveLength(2002);
    expect(pairs.slice(0, 4)).toEqual(['n0', '', 'n1', '']);
    expect(pairs.slice(-2)).toEqual(['last', 'v']);
  });
});
