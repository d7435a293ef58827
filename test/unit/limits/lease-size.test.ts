import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type LeaseSizing,
  leaseSize,
  MAX_SHARE_OF_UNLEASED,
  MIN_SHARE_OF_LIMIT,
  smoothDemand,
} from '../../../src/limits/lease-size.js';

const sizing = (overrides: Partial<LeaseSizing>): LeaseSizing => ({
  needed: 1,
  waiting: 1,
  unleased: 1000,
  limit: 1000,
  expectedDemand: 0,
  previousLease: 0,
  ...overrides,
});

describe('leaseSize', () => {
  it('covers the expected demand of a quiet container, not more', () => {
    expect(leaseSize(sizing({ expectedDemand: 7.2 }))).toBe(8);
    expect(leaseSize(sizing({ expectedDemand: 0 }))).toBe(1);
  });

  it('covers every request already waiting', () => {
    expect(leaseSize(sizing({ needed: 3, waiting: 40 }))).toBe(40);
  });

  it('doubles the previous lease when demand outgrows the estimate', () => {
    expect(leaseSize(sizing({ previousLease: 16, expectedDemand: 10 }))).toBe(32);
  });

  it('takes at most half of what is left, or the share-of-limit floor when little is left', () => {
    expect(leaseSize(sizing({ expectedDemand: 5000 }))).toBe(1000 * MAX_SHARE_OF_UNLEASED);
    expect(leaseSize(sizing({ expectedDemand: 5000, unleased: 60 }))).toBe(1000 * MIN_SHARE_OF_LIMIT);
    expect(leaseSize(sizing({ expectedDemand: 5000, unleased: 30 }))).toBe(30);
  });

  it('always covers the triggering request, even above the share cap', () => {
    expect(leaseSize(sizing({ needed: 900, waiting: 900, expectedDemand: 5000 }))).toBe(900);
  });

  it('stays between what the request needs and what the window has left', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }).chain((limit) =>
          fc.record({
            limit: fc.constant(limit),
            unleased: fc.integer({ min: 1, max: limit }),
            expectedDemand: fc.double({ min: 0, max: 1e6, noNaN: true }),
            previousLease: fc.integer({ min: 0, max: limit }),
            waiting: fc.integer({ min: -limit, max: 10 * limit }),
            neededShare: fc.double({ min: 0, max: 1, noNaN: true }),
          }),
        ),
        ({ neededShare, ...rest }) => {
          const needed = Math.max(1, Math.floor(rest.unleased * neededShare));
          const tokens = leaseSize({ ...rest, needed });
          expect(Number.isInteger(tokens)).toBe(true);
          expect(tokens).toBeGreaterThanOrEqual(needed);
          expect(tokens).toBeLessThanOrEqual(rest.unleased);
        },
      ),
    );
  });
});

describe('smoothDemand', () => {
  it('weighs the window just ended and the previous estimate equally', () => {
    expect(smoothDemand(100, 200, 1)).toBe(150);
    expect(smoothDemand(0, 40, 1)).toBe(20);
  });

  it('halves the estimate for every idle window that followed', () => {
    expect(smoothDemand(100, 200, 3)).toBe(37.5);
    expect(smoothDemand(100, 200, 10_000)).toBe(0);
  });
});
