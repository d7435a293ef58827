import { forEachLimited } from '../gateway/concurrency.js';
import type { GatewayContext } from '../gateway/context.js';
import { indexedChannels, type Recount, recountChannel } from '../state/recount.js';
import {
  channelSlot,
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
/** Channels recounted per run at most (each a `Query` of its partition); the rest wait for the next turn. */
const MAX_RECOUNTS_PER_RUN = 200;

/**
 * The apps with connections in any slot lately, as one container's runs have seen them: a channel is recounted
 * in its own slot's turn, whichever slot its app's connections are entered in. A cold container learns them
 * over one rotation.
 */
export class KnownApps {
  private readonly lastSeen = new Map<string, number>();

  constructor(private readonly forgetAfterMs: number) {}

  seen(appId: string, nowMs: number): void {
    this.lastSeen.set(appId, nowMs);
  }

  current(nowMs: number): string[] {
    for (const [appId, at] of this.lastSeen) if (nowMs - at > this.forgetAfterMs) this.lastSeen.delete(appId);
    return [...this.lastSeen.keys()];
  }
}

export interface SweepReport {
  readonly slot: number;
  /** Entries old enough to ask about. */
  readonly probed: number;
  /** Connections API Gateway no longer had: cleaned up, their entries removed. */
  readonly cleaned: number;
  /** Entries (or unread shards) left for the slot's next turn: the run ran out of time, or a call failed. */
  readonly deferred: number;
  /** Channel counts corrected (see `recountChannel`). */
  readonly recounts: readonly Recount[];
}

/**
 * One run of the connection sweeper: for the slot of the period `scheduledAtMs` falls in, asks API Gateway
 * about every connection entered there (`GetConnection`) and cleans up those it no longer has, as their
 * lost `$disconnect` would have: record, subscriptions with `member_removed`, counts, user entry and
 * MaxConnections slot. Live connections cost one call and nothing else. Then recounts the channels whose
 * turn it is (a channel's name picks its slot) in the apps of `knownApps`, so counts that leaked without a
 * ghost behind them converge too. Stops once `stopAtMs` is near, leaving the rest to the next turn.
 */
export async function sweepSlot(
  context: GatewayContext,
  plan: SweepPlan,
  scheduledAtMs: number,
  stopAtMs: number,
  knownApps: KnownApps,
): Promise<SweepReport> {
  const slot = slotAt(plan, scheduledAtMs);
  const now = context.now();
  const entries: SweepEntry[] = [];
  let unreadShards = 0;
  await forEachLimited(
    Array.from({ length: SWEEP_SHARDS }, (_, shard) => shard),
    SWEEP_SHARDS,
    async (shard) => {
      try {
        for await (const entry of sweepEntries(context.state, slot, shard, now)) {
          if (entry.appId !== undefined) knownApps.seen(entry.appId, now);
          if (entry.connectedAtMs <= now - plan.minAgeMs) entries.push(entry);
        }
      } catch (error) {
        // One shard unread waits for its next turn; the others are asked about now.
        unreadShards++;
        context.logger.warn('reading a sweep shard failed', { slot, shard, error: String(error) });
      }
    },
  );
  // A run cut short by time leaves a random part, not always the same tail, for the next turn.
  shuffle(entries);
  let cleaned = 0;
  let deferred = unreadShards;
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
  const recounts = await recountSlotChannels(context, plan, slot, knownApps.current(now), stopAtMs);
  return { slot, probed: entries.length, cleaned, deferred, recounts };
}

async function recountSlotChannels(
  context: GatewayContext,
  plan: SweepPlan,
  slot: number,
  apps: readonly string[],
  stopAtMs: number,
): Promise<Recount[]> {
  const recounts: Recount[] = [];
  let checked = 0;
  for (const appId of apps) {
    for await (const channel of indexedChannels(context.state, appId, context.now())) {
      if (checked >= MAX_RECOUNTS_PER_RUN || context.now() >= stopAtMs) return recounts;
      if (channelSlot(plan, channel) !== slot) continue;
      checked++;
      try {
        const recount = await recountChannel(context.state, appId, channel, context.now());
        if (recount !== undefined) recounts.push(recount);
      } catch (error) {
        context.logger.warn('recount of a channel failed; its next turn tries again', {
          appId,
          channel,
          error: String(error),
        });
      }
    }
  }
  return recounts;
}

/** Fisher–Yates, in place. */
function shuffle<T>(items: T[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}
