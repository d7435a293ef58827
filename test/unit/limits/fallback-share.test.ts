import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  containersSeen,
  type FallbackBudget,
  fallbackAllowance,
  NO_CONTAINERS_SEEN,
  seeClaimers,
} from '../../../src/limits/fallback-share.js';

const readings = (...counts: [window: number, claimers: number][]) =>
  counts.reduce((seen, [window, claimers]) => seeClaimers(seen, window, claimers), NO_CONTAINERS_SEEN);

describe('containersSeen', () => {
  it('counts only itself before any lease was answered', () => {
    expect(containersSeen(NO_CONTAINERS_SEEN)).toBe(1);
  });

  it('takes the most claimers read in the latest window and the window read before it', () => {
    // Leasing first in window 11, the container read only itself; window 10 showed three.
    expect(containersSeen(readings([10, 2], [10, 3], [11, 1]))).toBe(3);
    expect(containersSeen(readings([10, 3], [11, 1], [11, 2]))).toBe(3);
  });

  it('forgets a window once two later windows were read, however long ago they were', () => {
    expect(containersSeen(readings([10, 5], [11, 2], [20, 1]))).toBe(2);
    expect(containersSeen(readings([10, 5], [11, 2], [20, 1], [30, 1]))).toBe(1);
  });

  it('ignores a reading of an older window (a clock stepping back)', () => {
    expect(readings([10, 2], [11, 1], [9, 7])).toEqual(readings([10, 2], [11, 1]));
  });
});

const budget = (overrides: Partial<FallbackBudget>): FallbackBudget => ({
  limit: 100,
  containers: 1,
  granted: 0,
  claimedInWindow: 0,
  ...overrides,
});

describe('fallbackAllowance', () => {
  it('is the limit divided by the containers seen, rounded down', () => {
    expect(fallbackAllowance(budget({ containers: 1 }))).toBe(100);
    expect(fallbackAllowance(budget({ containers: 3 }))).toBe(33);
    expect(fallbackAllowance(budget({ containers: 101 }))).toBe(0);
  });

  it('keeps a larger lease already granted: those tokens are counted in the shared limit', () => {
    expect(fallbackAllowance(budget({ containers: 4, granted: 60, claimedInWindow: 90 }))).toBe(60);
  });

  it('adds no more than the container last read as unleased', () => {
    expect(fallbackAllowance(budget({ containers: 2, granted: 10, claimedInWindow: 95 }))).toBe(15);
    expect(fallbackAllowance(budget({ containers: 2, granted: 10, claimedInWindow: 130 }))).toBe(10);
  });

  it('never passes its grants plus its share, nor the limit unless granted more', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000 }).chain((limit) =>
          fc.record({
            limit: fc.constant(limit),
            containers: fc.integer({ min: 1, max: 500 }),
            granted: fc.integer({ min: 0, max: limit }),
            claimedInWindow: fc.integer({ min: 0, max: 3 * limit }),
          }),
        ),
        (drawn) => {
          const allowance = fallbackAllowance(drawn);
          expect(Number.isInteger(allowance)).toBe(true);
          expect(allowance).toBeGreaterThanOrEqual(drawn.granted);
          expect(allowance).toBeLessThanOrEqual(drawn.granted + Math.floor(drawn.limit / drawn.containers));
          expect(allowance).toBeLessThanOrEqual(Math.max(drawn.limit, drawn.granted));
        },
      ),
      { seed: 13, numRuns: 500 },
    );
  });
});
