import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UNLIMITED } from '../../../src/apps/app.js';
import {
  decodeMaxConnections,
  encodeMaxConnections,
  UNLIMITED_MAX_CONNECTIONS_IN_CONTEXT,
} from '../../../src/gateway/max-connections-context.js';

/**
 * Every `maxConnections` an `App` holds: unlimited, or a whole count from 0 up, as large as `parseAppItem`
 * accepts (any finite whole number, `1e21` included).
 */
const appMaxConnections = fc.oneof(
  fc.constant(UNLIMITED),
  fc.integer({ min: 0, max: 1_000 }),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  fc.constantFrom(2 ** 53, 2 ** 53 + 2, 1e16, 1e21, Number.MAX_VALUE),
);

/** What `$connect` must enforce for an app's value: itself, or unlimited when no count can reach it. */
const enforced = (maxConnections: number) =>
  Number.isSafeInteger(maxConnections) ? maxConnections : UNLIMITED;

/** What reaches `$connect` of a value the authorizer returned (as JSON, from a Lambda), on AWS and offline. */
const delivered = (value: string): unknown => JSON.parse(JSON.stringify(value));

describe('maxConnections in the $connect authorizer context', () => {
  it('encodes unlimited as -1, as soketi writes it, and a limit as itself, as strings (as AWS delivers them)', () => {
    expect(UNLIMITED_MAX_CONNECTIONS_IN_CONTEXT).toBe(-1);
    expect(encodeMaxConnections(UNLIMITED)).toBe('-1');
    expect(encodeMaxConnections(0)).toBe('0');
    expect(encodeMaxConnections(3)).toBe('3');
  });

  it('rounds a fractional limit down, as the connection counter does', () => {
    expect(encodeMaxConnections(2.9)).toBe('2');
  });

  it.each([2 ** 53, 1e16, 1e21])(
    'sends %s, which no count can reach and no context can carry exactly, as unlimited',
    (value) => {
      expect(encodeMaxConnections(value)).toBe('-1');
    },
  );

  it.each([-1, -0.5, Number.NEGATIVE_INFINITY, Number.NaN])(
    'refuses to encode %s, which breaks the App convention',
    (value) => {
      expect(() => encodeMaxConnections(value)).toThrow(RangeError);
    },
  );

  it('decodes back to what $connect must enforce, JSON-serialized on the way', () => {
    fc.assert(
      fc.property(appMaxConnections, (maxConnections) => {
        expect(decodeMaxConnections(delivered(encodeMaxConnections(maxConnections)))).toBe(
          enforced(maxConnections),
        );
      }),
    );
  });

  it.each([
    ['-1', UNLIMITED],
    ['0', 0],
    ['1', 1],
    ['250', 250],
    [-1, UNLIMITED],
    [250, 250],
  ])('decodes %j to %s', (value, expected) => {
    expect(decodeMaxConnections(value)).toBe(expected);
  });

  it.each([
    undefined,
    null,
    '',
    ' 3',
    '3 ',
    '03',
    '+3',
    '-2',
    '-0',
    '1.5',
    '1e3',
    'Infinity',
    'unlimited',
    '99999999999999999',
    -2,
    1.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    2 ** 53,
    true,
    {},
  ])('decodes %j to undefined: never a default limit', (value) => {
    expect(decodeMaxConnections(value)).toBeUndefined();
  });
});
