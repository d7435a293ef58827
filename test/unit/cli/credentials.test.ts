import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateAppId, generateAppKey, generateAppSecret } from '../../../src/cli/credentials.js';

describe('generated credentials', () => {
  it('have the documented shapes', () => {
    for (let round = 0; round < 50; round += 1) {
      expect(generateAppId(randomBytes)).toMatch(/^[1-9]\d{9}$/);
      expect(generateAppKey(randomBytes)).toMatch(/^[0-9a-f]{20}$/);
      expect(generateAppSecret(randomBytes)).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('come from the random source, and cover the whole id range', () => {
    expect(generateAppId((size) => Buffer.alloc(size, 0))).toBe('1000000000');
    expect(generateAppId((size) => Buffer.alloc(size, 0xff))).toBe(
      String(1_000_000_000n + ((2n ** 64n - 1n) % 9_000_000_000n)),
    );
    expect(generateAppKey((size) => Buffer.alloc(size, 0xab))).toBe('ab'.repeat(10));
    expect(generateAppSecret((size) => Buffer.alloc(size, 1))).toBe('01'.repeat(32));
  });

  it('differ from call to call', () => {
    const secrets = new Set(Array.from({ length: 100 }, () => generateAppSecret(randomBytes)));
    expect(secrets.size).toBe(100);
  });
});
