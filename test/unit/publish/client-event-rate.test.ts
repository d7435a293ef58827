import { describe, expect, it } from 'vitest';
import { ClientEventRate } from '../../../src/gateway/client-events.js';

describe('ClientEventRate', () => {
  it('admits up to the limit per connection in each one-second window', () => {
    const rate = new ClientEventRate();
    const at = 5_000;

    const first = [0, 1, 2, 3].map(() => rate.admit('a', 3, at + 100));
    const other = rate.admit('b', 3, at + 200);
    const nextSecond = rate.admit('a', 3, at + 1_000);

    expect(first).toEqual([true, true, true, false]);
    expect(other).toBe(true);
    expect(nextSecond).toBe(true);
  });

  it('refuses everything at a limit of 0 and nothing when unlimited', () => {
    const rate = new ClientEventRate();

    expect(rate.admit('a', 0, 0)).toBe(false);
    expect(Array.from({ length: 50 }, () => rate.admit('a', Number.POSITIVE_INFINITY, 0))).not.toContain(
      false,
    );
  });

  it('forgets the oldest window beyond the connections it tracks, so memory stays bounded', () => {
    const rate = new ClientEventRate(2);
    rate.admit('old', 1, 0);
    rate.admit('mid', 1, 0);
    rate.admit('new', 1, 0);

    // 'old' was forgotten: its spent window starts afresh; 'new' is still tracked and spent.
    expect(rate.admit('old', 1, 0)).toBe(true);
    expect(rate.admit('new', 1, 0)).toBe(false);
  });
});
