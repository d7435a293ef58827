import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inLane, laneGroupId, laneRanges, MAX_LANES } from '../../../src/publish/lanes.js';

const base64Id = fc
  .uint8Array({ minLength: 12, maxLength: 12 })
  .map((bytes) => Buffer.from(bytes).toString('base64'));

describe('laneRanges', () => {
  it('puts every connection id, of any alphabet, in exactly one lane, whatever the number of lanes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_LANES }), fc.oneof(base64Id, fc.string()), (count, id) => {
        expect(laneRanges(count).filter((range) => inLane(range, id))).toHaveLength(1);
      }),
    );
  });

  it('splits API Gateway connection ids evenly: ten lanes of 10,000 random ids hold 1,000 ± 20 % each', () => {
    const ids = Array.from({ length: 10_000 }, () => randomBytes(12).toString('base64'));
    const counts = laneRanges(10).map((range) => ids.filter((id) => inLane(range, id)).length);
    for (const count of counts) {
      expect(count).toBeGreaterThan(800);
      expect(count).toBeLessThan(1_200);
    }
  });

  it('gives the same ranges each time, in key order, the first from the start and the last to the end', () => {
    const ranges = laneRanges(4);
    expect(laneRanges(4)).toEqual(ranges);
    expect(ranges[0]!.from).toBe('');
    expect(ranges.at(-1)!.to).toBeUndefined();
    for (let lane = 1; lane < ranges.length; lane++) expect(ranges[lane]!.from).toBe(ranges[lane - 1]!.to);
  });

  it.each([0, MAX_LANES + 1, 2.5])('refuses %s lanes', (count) => {
    expect(() => laneRanges(count)).toThrow(RangeError);
  });
});

describe('laneGroupId', () => {
  it('names each lane of each channel apart, within SQS message-group rules whatever the names hold', () => {
    fc.assert(
      fc.property(fc.string(), fc.string({ maxLength: 500 }), (appId, channel) => {
        const groups = laneRanges(10).map((range) => laneGroupId(appId, channel, range));
        expect(new Set(groups).size).toBe(10);
        for (const group of groups) expect(group).toMatch(/^[!-~]{1,128}$/);
        expect(laneGroupId(`${appId}x`, channel, laneRanges(10)[0]!)).not.toBe(groups[0]);
      }),
    );
  });
});
