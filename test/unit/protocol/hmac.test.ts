import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hexSignatureEquals, hmacSha256Hex } from '../../../src/protocol/hmac.js';

const reference = (secret: string, data: string | Uint8Array) =>
  createHmac('sha256', secret).update(data).digest('hex');

describe('hmacSha256Hex (RFC 2104 over crypto.hash)', () => {
  it('equals createHmac for 1000 random secrets and messages, strings and bytes', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 100 }),
        fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.uint8Array({ maxLength: 300 })),
        (secret, data) => hmacSha256Hex(secret, data) === reference(secret, data),
      ),
      { numRuns: 1000 },
    );
  });

  it.each([
    ['empty', ''],
    ['one block exactly', 'k'.repeat(64)],
    ['one byte over a block', 'k'.repeat(65)],
    ['64 bytes of two-byte characters', 'é'.repeat(32)],
    ['66 bytes of two-byte characters', 'é'.repeat(33)],
    ['four-byte characters', '😀'.repeat(17)],
  ])('equals createHmac for a %s secret', (_, secret) => {
    expect(hmacSha256Hex(secret, 'message')).toBe(reference(secret, 'message'));
  });

  it.each([
    ['the scratch buffer size in ASCII', 'x'.repeat(5461)],
    ['beyond the scratch buffer', 'x'.repeat(40_000)],
    ['beyond it in multi-byte characters', 'é😀'.repeat(4000)],
  ])('equals createHmac for a message of %s', (_, message) => {
    expect(hmacSha256Hex('secret', message)).toBe(reference('secret', message));
    const bytes = Buffer.from(message);
    expect(hmacSha256Hex('secret', bytes)).toBe(reference('secret', bytes));
  });

  it('is not disturbed by the previous call (scratch buffers and cached keys)', () => {
    const first = hmacSha256Hex('a-long-secret'.repeat(10), 'x'.repeat(30_000));
    expect(hmacSha256Hex('s', 'm')).toBe(reference('s', 'm'));
    expect(first).toBe(reference('a-long-secret'.repeat(10), 'x'.repeat(30_000)));
    for (let i = 0; i < 1_200; i++) hmacSha256Hex(`secret-${i}`, 'm');
    expect(hmacSha256Hex('secret-5', 'm')).toBe(reference('secret-5', 'm'));
  });
});

describe('hexSignatureEquals', () => {
  const expected = reference('s', 'm');

  it('accepts only the exact lowercase hex', () => {
    expect(hexSignatureEquals(expected, expected)).toBe(true);
    expect(hexSignatureEquals(expected, expected.toUpperCase())).toBe(false);
    expect(hexSignatureEquals(expected, `${expected.slice(0, 63)}${expected[63] === '0' ? '1' : '0'}`)).toBe(
      false,
    );
    expect(hexSignatureEquals(expected, expected.slice(1))).toBe(false);
    expect(hexSignatureEquals(expected, `${expected} `)).toBe(false);
  });
});
