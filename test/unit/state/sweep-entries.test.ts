import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { slotAt, sweepPlan } from '../../../src/state/sweep-entries.js';

describe('sweepPlan', () => {
  it('rotates through the bound less two periods: 5 minutes of 1-minute runs make 3 slots', () => {
    expect(sweepPlan(300_000, 60_000)).toEqual({ periodMs: 60_000, slots: 3, minAgeMs: 30_000 });
  });

  it('has no plan for a bound under three periods', () => {
    expect(sweepPlan(179_999, 60_000)).toBeUndefined();
    expect(sweepPlan(180_000, 60_000)?.slots).toBe(1);
  });

  it('asks about every connection within the bound after it vanished, however the times fall', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 600 }).chain((periodS) =>
          fc.tuple(
            fc.constant(periodS * 1_000),
            fc.integer({ min: 3 * periodS, max: 7_200 }).map((s) => s * 1_000),
            fc.integer({ min: 0, max: 2 ** 41 }),
            fc.integer({ min: 0, max: 7_200_000 }),
          ),
        ),
        ([periodMs, boundMs, connectedAtMs, livedMs]) => {
          const plan = sweepPlan(boundMs, periodMs)!;
          const vanishedAtMs = connectedAtMs + livedMs;
          // The first run after the vanishing whose slot is the connection's, with it old enough to ask about.
          let run = Math.floor(vanishedAtMs / periodMs) + 1;
          while (
            slotAt(plan, run * periodMs) !== slotAt(plan, connectedAtMs) ||
            run * periodMs < connectedAtMs + plan.minAgeMs
          ) {
            run++;
          }
          expect(run * periodMs - vanishedAtMs).toBeLessThanOrEqual(boundMs - periodMs);
        },
      ),
      { numRuns: 500, seed: 5 },
    );
  });
});
