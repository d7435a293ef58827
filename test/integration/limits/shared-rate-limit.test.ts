import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRateLimiter,
  type RateLimiter,
  type RateLimiterStats,
} from '../../../src/limits/rate-limiter.js';
import {
  type CallCounter,
  countCalls,
  createStateTable,
  type TestTable,
  testClient,
} from '../../support/dynamodb.js';

/**
 * Several limiter instances, each with its own DynamoDB client as a Lambda container would have, share
 * one app limit through one dynalite state table under saturating load.
 *
 * Saturation that does not depend on dynalite's speed: every instance keeps WORKERS requests
 * outstanding at all times. A worker that is allowed asks again at once; a worker that is refused
 * (the window's budget is gone) sleeps until the window resets, as a client honouring Retry-After
 * would, so refused requests do not spin the CPU that dynalite needs.
 *
 * Each admitted event is counted in the window of the clock reading the limiter decided with: the
 * injected clock records its last reading in the calling request's async context.
 */
const INSTANCES = 6;
const WORKERS = 8;
const FULL_WINDOWS = 3;

const decisionClock = new AsyncLocalStorage<{ at: number }>();
function now(): number {
  const at = Date.now();
  const reading = decisionClock.getStore();
  if (reading) reading.at = at;
  return at;
}
const windowOf = (at: number) => Math.floor(at / 1000);

function sumOf(all: RateLimiterStats[]): RateLimiterStats {
  const total: Record<string, number> = {};
  for (const stats of all) {
    for (const [name, value] of Object.entries(stats)) total[name] = (total[name] ?? 0) + value;
  }
  return total as unknown as RateLimiterStats;
}

interface Measurement {
  readonly admittedPerWindow: Map<number, number>;
  readonly fullWindows: number[];
  /** `UpdateItem` calls counted on the wire by an SDK middleware. */
  readonly writes: number;
  /** The limiters' own counters, summed. */
  readonly stats: RateLimiterStats;
}

describe('shared rate limit across containers (measured against dynalite)', () => {
  let table: TestTable;

  const admin = testClient();

  beforeAll(async () => {
    table = await createStateTable(admin, 'rate-measure');
  });
  afterAll(async () => {
    await table.drop();
    admin.destroy();
  });

  async function measure(limit: number): Promise<Measurement> {
    const containers = Array.from({ length: INSTANCES }, () => {
      const client = testClient();
      const calls: CallCounter = countCalls(client);
      // A generous timeout: this measures the shared limiter, not its fallback on a busy machine.
      const limiter: RateLimiter = createRateLimiter({
        client,
        tableName: table.name,
        now,
        leaseTimeoutMs: 5_000,
      });
      return { client, calls, limiter };
    });
    const appId = `measured-${limit}`;
    const admittedPerWindow = new Map<number, number>();
    const started = Date.now();
    const firstFull = windowOf(started) + 1;
    const until = (firstFull + FULL_WINDOWS) * 1000;

    async function worker(limiter: RateLimiter): Promise<void> {
      while (Date.now() < until) {
        const reading = { at: 0 };
        const decision = await decisionClock.run(reading, () =>
          limiter.consume(appId, 'backend-events', 1, limit),
        );
        if (decision.allowed) {
          const window = windowOf(reading.at);
          admittedPerWindow.set(window, (admittedPerWindow.get(window) ?? 0) + 1);
        } else {
          await sleep(Math.max(1, decision.resetSeconds * 1000));
        }
      }
    }
    await Promise.all(
      containers.flatMap(({ limiter }) => Array.from({ length: WORKERS }, () => worker(limiter))),
    );
    for (const { client } of containers) client.destroy();

    return {
      admittedPerWindow,
      fullWindows: Array.from({ length: FULL_WINDOWS }, (_, i) => firstFull + i),
      writes: containers.reduce((sum, { calls }) => sum + calls.count('UpdateItemCommand'), 0),
      stats: sumOf(containers.map(({ limiter }) => limiter.stats())),
    };
  }

  it.each([100, 500])(
    'never exceeds a limit of %i/s, admits most of it and leases in batches',
    async (limit) => {
      const m = await measure(limit);
      const perWindow = [...m.admittedPerWindow.values()];
      const admitted = perWindow.reduce((sum, n) => sum + n, 0);
      const admittedInFull = m.fullWindows.reduce((sum, w) => sum + (m.admittedPerWindow.get(w) ?? 0), 0);
      const admittedPerSecond = admittedInFull / m.fullWindows.length;
      const writesPerAdmitted = m.writes / admitted;
      console.log(
        `rate limit ${limit}/s, ${INSTANCES} containers x ${WORKERS} concurrent requests: ` +
          `admitted ${admittedPerSecond.toFixed(1)}/s in full windows (${((100 * admittedPerSecond) / limit).toFixed(1)}% of the limit), ` +
          `per-window max ${Math.max(...perWindow)}, per window [${m.fullWindows.map((w) => m.admittedPerWindow.get(w) ?? 0).join(', ')}]; ` +
          `${m.writes} writes for ${admitted} admitted = ${writesPerAdmitted.toFixed(3)} writes per admitted event ` +
          `(1 per ${(admitted / m.writes).toFixed(1)}: ${m.stats.leases} leases got tokens, ` +
          `${m.stats.leaseFailures} found the window spent)`,
      );

      expect(m.stats).toMatchObject({ fallbacks: 0, dynamodbErrors: 0, dynamodbWrites: m.writes });
      expect(Math.max(...perWindow)).toBeLessThanOrEqual(limit);
      expect(admittedInFull).toBeGreaterThanOrEqual(0.8 * limit * m.fullWindows.length);
      expect(writesPerAdmitted).toBeLessThanOrEqual(1 / 5);
    },
  );
});
