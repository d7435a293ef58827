import { forEachLimited } from '../gateway/concurrency.js';
import type { GatewayContext } from '../gateway/context.js';
import {
  deleteSweepEntry,
  SWEEP_SHARDS,
  type SweepEntry,
  type SweepPlan,
  slotAt,
  sweepEntries,
} from '../state/sweep-entries.js';
import { cleanUpConnections } from './cleanup.js';

/** Connections asked about at once: `GetConnection` calls draw on the account's 10,000 requests per second. */
const PROBE_CONCURRENCY = 16;

export interface SweepReport {
  readonly slot: number;
  /** Entries old enough to ask about. */
  readonly probed: number;
  /** Connections API Gateway no longer had: cleaned up, their entries removed. */
  readonly cleaned: number;
  /** Entries left for the slot's next turn: the run ran out of time, or a call failed. */
  readonly deferred: number;
}

/**
 * One run of the connection sweeper: for the slot of the period `scheduledAtMs` falls in, asks API Gateway
 * about every connection entered there (`GetConnection`) and cleans up those it no longer has, as their
 * lost `$disconnect` would have: record, subscriptions with `member_removed`, counts, user entry and
 * MaxConnections slot. Live connections cost one call and nothing else. Stops asking once `stopAtMs` is
 * near, leaving the rest to the slot's next turn.
 */
export async function sweepSlot(
  context: GatewayContext,
  plan: SweepPlan,
  scheduledAtMs: number,
  stopAtMs: number,
): Promise<SweepReport> {
  const slot = slotAt(plan, scheduledAtMs);
  const now = context.now();
  const entries: SweepEntry[] = [];
  await forEachLimited(
    Array.from({ length: SWEEP_SHARDS }, (_, shard) => shard),
    SWEEP_SHARDS,
    async (shard) => {
      for await (const entry of sweepEntries(context.state, slot, shard, now)) {
        if (entry.connectedAtMs <= now - plan.minAgeMs) entries.push(entry);
      }
    },
  );
  let cleaned = 0;
  let deferred = 0;
  await forEachLimited(entries, PROBE_CONCURRENCY, async (entry) => {
    if (context.now() >= stopAtMs) {
      deferred++;
      return;
    }
    try {
      if ((await context.connections.probe(entry.connectionId)) !== 'gone') return;
      const { failed } = await cleanUpConnections(context, [{ connectionId: entry.connectionId }]);
      if (failed.includes(entry.connectionId)) {
        deferred++;
        return;
      }
      await deleteSweepEntry(context.state, entry);
      cleaned++;
    } catch (error) {
      deferred++;
      context.logger.warn('sweep of a connection failed; its next turn tries again', {
        connectionId: entry.connectionId,
        error: String(error),
      });
    }
  });
  return { slot, probed: entries.length, cleaned, deferred };
}
