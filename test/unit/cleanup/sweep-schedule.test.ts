import { describe, expect, it } from 'vitest';
import { scheduledAtOf } from '../../../src/cleanup/sweep-schedule.js';

describe('scheduledAtOf', () => {
  it("takes the EventBridge event's time, the minute the run was scheduled for", () => {
    expect(scheduledAtOf({ time: '2026-12-07T12:34:00Z' }, 0)).toBe(Date.parse('2026-12-07T12:34:00Z'));
  });

  it('falls back to now for an event without a usable time', () => {
    for (const event of [undefined, null, {}, { time: 'soon' }, { time: 5 }])
      expect(scheduledAtOf(event, 42)).toBe(42);
  });
});
