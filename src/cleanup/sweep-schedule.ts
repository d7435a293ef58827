/** Time kept after the sweep stops asking: the webhook enqueue of what it cleaned, and the return. */
export const SWEEP_STOP_RESERVE_MS = 10_000;

/**
 * The period a scheduled run belongs to: its EventBridge `time` (the minute it was scheduled for, whenever it
 * actually started), else now.
 */
export function scheduledAtOf(event: unknown, nowMs: number): number {
  const time = (event as { time?: unknown } | null)?.time;
  const parsed = typeof time === 'string' ? Date.parse(time) : Number.NaN;
  return Number.isFinite(parsed) ? parsed : nowMs;
}
