import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { convertToNative, marshall } from '@aws-sdk/util-dynamodb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nativeValueOf } from '../../../src/apps/attribute-value.js';

/** JSON documents as a `Webhooks` list holds them: the numbers JavaScript holds exactly. */
const document = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string(),
    fc.boolean(),
    fc.constant(null),
    fc.integer(),
    fc
      .double({ noNaN: true, noDefaultInfinity: true })
      .filter((number) => !Number.isInteger(number) || Number.isSafeInteger(number)),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ minLength: 1 }), tie('value'), { maxKeys: 4 }),
  ),
})).value;

describe('nativeValueOf', () => {
  it('reads every JSON document as convertToNative does', () => {
    fc.assert(
      fc.property(fc.array(document, { maxLength: 5 }), (list) => {
        const attribute: AttributeValue = { L: marshall({ list }).list!.L! };
        expect(nativeValueOf(attribute)).toEqual(convertToNative(attribute));
      }),
    );
  });

  it('reads a webhook list as soketi stored it', () => {
    const attribute: AttributeValue = {
      L: [{ M: { url: { S: 'https://a.example' }, event_types: { L: [{ S: 'cache_miss' }] } } }],
    };
    expect(nativeValueOf(attribute)).toEqual([{ url: 'https://a.example', event_types: ['cache_miss'] }]);
  });

  it('keeps bytes as bytes', () => {
    const bytes = new Uint8Array([1, 2, 3]);
    expect(nativeValueOf({ L: [{ B: bytes }] })).toEqual([bytes]);
  });

  it.each([
    ['an integer beyond 2^53', { N: '9007199254740993' }, RangeError, /beyond 2\^53/],
    ['a number beyond a double', { N: '1e400' }, RangeError, /not finite/],
    ['text that is not a number', { N: 'twelve' }, RangeError, /not finite/],
    ['an empty number', { N: ' ' }, RangeError, /not finite/],
    ['a string set', { SS: ['a'] }, TypeError, /set/],
    ['a number set', { NS: ['1'] }, TypeError, /set/],
    ['an attribute of no known type', {}, TypeError, /no known type/],
  ])('refuses %s', (_name, value, type, message) => {
    expect(() => nativeValueOf({ L: [value as AttributeValue] })).toThrow(type);
    expect(() => nativeValueOf({ L: [value as AttributeValue] })).toThrow(message);
  });

  it('never quotes the value it refuses: a webhook header may hold a credential', () => {
    expect(() => nativeValueOf({ N: '98765432109876543210123' })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('98765') }),
    );
  });
});
