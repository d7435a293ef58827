import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UNLIMITED } from '../../../src/apps/app.js';
import {
  decodeMaxConnections,
  encodeMaxConnections,
  UNLIMITED_MAX_CONNECTIONS_IN_CONTEXT,
} from '../../../src/authorizers/max-connections-context.js';

/** Every `maxConnections` an `App` holds: unlimited, or a whole count from 0 up. */
const appMaxConnections = fc.oneof(
  fc.constant(UNLIMITED),
  fc.integer({ min: 0, max: 1_000 }),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
);

/**
 * What reaches `$connect` of a value the authorizer returned (as JSON, from a Lambda): API Gateway stringifies
 * context values, serverless-offline passes them on as they are.
 */
const DELIVERIES = {
  aws: (value: number): unknown => String(JSON.parse(JSON.stringify(value))),
  'serverless-offline': (value: number): unknown => JSON.parse(JSON.stringify(value)),
};

describe('maxConnections in the $connect authorizer context', () => {
  it('encodes unlimited as -1, as soketi writes it, and a limit as itself', () => {
    expect(UNLIMITED_MAX_CONNECTIONS_IN_CONTEXT).toBe(-1);
    expect(encodeMaxConnections(UNLIMITED)).toBe(-1);
    expect(encodeMaxConnections(0)).toBe(0);
    expect(encodeMaxConnections(3)).toBe(3);
  });

  it('rounds a fractional limit down, as the connection counter does', () => {
    expect(encodeMaxConnections(2.9)).toBe(2);
  });

  it.each([-1, -0.5, Number.NEGATIVE_INFINITY, Number.NaN])(
    'refuses to encode %s, which breaks the App convention',
    (value) => {
      expect(() => encodeMaxConnections(value)).toThrow(RangeError);
    },
  );

  it.each(Object.entries(DELIVERIES))(
    'decodes back to the app value as %s delivers it, JSON-serialized on the way',
    (_, deliver) => {
      fc.assert(
        fc.property(appMaxConnections, (maxConnections) => {
          expect(decodeMaxConnections(deliver(encodeMaxConnections(maxConnections)))).toBe(maxConnections);
        }),
      );
    },
  );

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
