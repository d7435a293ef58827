import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRateLimiter,
  type RateLimiter,
  type RateLimiterOptions,
} from '../../../src/limits/rate-limiter.js';
import { windowItemKey } from '../../../src/limits/token-lease.js';
import { stateTableDefinition } from '../../../src/state/table-schema.js';
import { closedPortEndpoint, DYNAMODB_FAULTS, startDynamoDbProxy } from '../../support/aws-json-proxy.js';
import {
  countCalls,
  createStateTable,
  createTable,
  dynamodbEndpoint,
  type TestTable,
  testClient,
} from '../../support/dynamodb.js';
import { type LogRecord, recordingLogger } from '../../support/recording-logger.js';

const warnings = (records: LogRecord[]) => records.filter((record) => record.level === 'warn');
const infos = (records: LogRecord[]) => records.filter((record) => record.level === 'info');

/** A clock the test moves by hand: windows are its epoch seconds. */
function manualClock(start = 1_700_000_000_000) {
  let at = start;
  return {
    now: () => at,
    set: (ms: number) => {
      at = ms;
    },
    advance: (ms: number) => {
      at += ms;
    },
    window: () => Math.floor(at / 1000),
  };
}

async function allowedOf(limiter: RateLimiter, appId: string, count: number, limit: number): Promise<number> {
  const decisions = await Promise.all(
    Array.from({ length: count }, () => limiter.consume(appId, 'backend-events', 1, limit)),
  );
  return decisions.filter((decision) => decision.allowed).length;
}

describe('createRateLimiter', () => {
  let client: DynamoDBClient;
  let table: TestTable;

  beforeAll(async () => {
    client = testClient();
    table = await createStateTable(client, 'rate-limiter');
  });
  afterAll(async () => {
    await table.drop();
    client.destroy();
  });

  /** A limiter standing in for one container: its own client, counted, on the shared table (at `endpoint`). */
  function container({ endpoint, ...options }: Partial<RateLimiterOptions> & { endpoint?: string } = {}) {
    const own = testClient(endpoint === undefined ? {} : { endpoint });
    const calls = countCalls(own);
    const logger = recordingLogger();
    const limiter = createRateLimiter({ client: own, tableName: table.name, logger, ...options });
    return { client: own, limiter, calls, logger };
  }

  async function claimedIn(appId: string, window: number): Promise<Record<string, string | undefined>> {
    const { Item } = await client.send(
      new GetItemCommand({
        TableName: table.name,
        Key: windowItemKey({ appId, kind: 'backend-events', window }),
        ConsistentRead: true,
      }),
    );
    return { claimed: Item?.claimed?.N, claimers: Item?.claimers?.N, expiresAt: Item?.expiresAt?.N };
  }

  describe('shared windows', () => {
    it('admits the limit per window, refuses the rest, and starts afresh when the window rolls', async () => {
      const clock = manualClock();
      const { limiter } = container({ now: clock.now, windowTtlSeconds: 5 });
      const appId = `roll-${randomUUID()}`;
      const first = clock.window();

      expect(await allowedOf(limiter, appId, 15, 10)).toBe(10);
      clock.advance(400);
      const refused = await limiter.consume(appId, 'backend-events', 1, 10);
      expect(refused).toEqual({
        allowed: false,
        limit: 10,
        remaining: 0,
        resetSeconds: 0.6,
        fitsAnyWindow: true,
      });

      clock.advance(600);
      const allowed = await limiter.consume(appId, 'backend-events', 3, 10);
      expect(allowed).toMatchObject({ allowed: true, limit: 10, resetSeconds: 1 });
      expect(allowed.remaining).toBeLessThanOrEqual(7);
      expect(await allowedOf(limiter, appId, 10, 10)).toBe(7);

      // One container, however many leases it took: one claimer.
      expect(await claimedIn(appId, first)).toEqual({
        claimed: '10',
        claimers: '1',
        expiresAt: String(first + 5),
      });
      expect((await claimedIn(appId, first + 1)).claimed).toBe('10');
    });

    it('shares one limit across containers', async () => {
      const clock = manualClock();
      const containers = [
        container({ now: clock.now }),
        container({ now: clock.now }),
        container({ now: clock.now }),
      ];
      const appId = `shared-${randomUUID()}`;
      const allowed = await Promise.all(containers.map(({ limiter }) => allowedOf(limiter, appId, 20, 25)));
      const total = allowed.reduce((sum, n) => sum + n, 0);
      expect(total).toBeLessThanOrEqual(25);
      // A lease sized by doubling may leave a container a token or two its requests did not need.
      expect(total).toBeGreaterThanOrEqual(20);
      expect(Number((await claimedIn(appId, clock.window())).claimed)).toBeGreaterThanOrEqual(25);
      // A container that learned the window is spent refuses without another write.
      const writes = containers.map(({ calls }) => calls.total());
      expect(await allowedOf(containers[0]!.limiter, appId, 5, 25)).toBe(0);
      expect(containers.map(({ calls }) => calls.total())).toEqual(writes);
    });

    it('counts multi-point requests against the limit', async () => {
      const clock = manualClock();
      const { limiter } = container({ now: clock.now });
      const appId = `points-${randomUUID()}`;
      expect((await limiter.consume(appId, 'backend-events', 6, 10)).allowed).toBe(true);
      expect((await limiter.consume(appId, 'backend-events', 5, 10)).allowed).toBe(false);
      expect((await limiter.consume(appId, 'backend-events', 4, 10)).allowed).toBe(true);
      expect((await limiter.consume(appId, 'read-requests', 10, 10)).allowed).toBe(true);
    });

    it('never spends tokens of a window that ended while their lease was in flight', async () => {
      const clock = manualClock(1_700_000_000_900);
      const a = container({ now: clock.now });
      const b = container({ now: clock.now });
      const appId = `late-${randomUUID()}`;
      const pending = allowedOf(a.limiter, appId, 10, 10);
      clock.advance(200);
      const allowedByA = await pending;
      const allowedByB = await allowedOf(b.limiter, appId, 10, 10);
      expect(allowedByA + allowedByB).toBe(10);
      expect(Number((await claimedIn(appId, clock.window())).claimed)).toBeGreaterThanOrEqual(10);
    });

    it('leases about what a quiet container uses, once per window', async () => {
      const clock = manualClock();
      const { limiter } = container({ now: clock.now });
      const appId = `quiet-${randomUUID()}`;
      for (let second = 0; second < 6; second++) {
        for (let request = 0; request < 5; request++) {
          expect((await limiter.consume(appId, 'backend-events', 1, 1000)).allowed).toBe(true);
          clock.advance(150);
        }
        clock.advance(250);
      }
      const writesBefore = limiter.stats().dynamodbWrites;
      for (let request = 0; request < 5; request++) {
        await limiter.consume(appId, 'backend-events', 1, 1000);
        clock.advance(150);
      }
      expect(limiter.stats().dynamodbWrites - writesBefore).toBe(1);
      const claimed = Number((await claimedIn(appId, clock.window())).claimed);
      expect(claimed).toBeGreaterThanOrEqual(5);
      expect(claimed).toBeLessThanOrEqual(8);
    });
    it('sizes a lease by the requests waiting across a window roll, and learns their demand once', async () => {
      const clock = manualClock(1_700_000_000_900);
      const { limiter } = container({ now: clock.now });
      const appId = `straddle-${randomUUID()}`;
      const first = clock.window();
      // The first request's lease (1 token: nothing waited yet, no demand known) is still in flight when
      // the window rolls, so all ten are decided in the next window with one lease sized by those waiting.
      const pending = allowedOf(limiter, appId, 10, 1000);
      clock.set(1000 * (first + 1));
      expect(await pending).toBe(10);
      expect((await claimedIn(appId, first)).claimed).toBe('1');
      expect((await claimedIn(appId, first + 1)).claimed).toBe('10');
      expect(limiter.stats().dynamodbWrites).toBe(2);

      // One request in a later window leases the smoothed demand, in which the ten count once: half-weighted
      // per window, that is 3 or 5 tokens (by the window they are credited to); lost, the lease would be the
      // request's 1 token; counted in both windows, 8.
      clock.set(1000 * (first + 2));
      expect((await limiter.consume(appId, 'backend-events', 1, 1000)).allowed).toBe(true);
      const claimed = Number((await claimedIn(appId, first + 2)).claimed);
      expect(claimed).toBeGreaterThanOrEqual(3);
      expect(claimed).toBeLessThanOrEqual(5);
    });
  });

  describe('within one container', () => {
    it('forgets the limit idle the longest beyond maxTrackedKeys', async () => {
      const clock = manualClock();
      const { limiter, calls } = container({ now: clock.now, maxTrackedKeys: 2 });
      const [a, b, c] = [1, 2, 3].map((n) => `tracked-${n}-${randomUUID()}`) as [string, string, string];
      expect(await allowedOf(limiter, a, 2, 1)).toBe(1);
      expect(calls.total()).toBe(1);
      await allowedOf(limiter, b, 1, 1);
      expect(await allowedOf(limiter, a, 1, 1)).toBe(0);
      expect(calls.total()).toBe(2);
      // c evicts a (b was created later), so a must ask DynamoDB again to learn its window is spent.
      await allowedOf(limiter, c, 1, 1);
      expect(await allowedOf(limiter, a, 1, 1)).toBe(0);
      expect(calls.total()).toBe(4);
      expect(limiter.stats().leaseFailures).toBe(1);
    });

    it('sends one lease at a time however many requests arrive together (single flight)', async () => {
      const own = testClient();
      let inFlight = 0;
      let mostInFlight = 0;
      own.middlewareStack.add(
        (next) => async (args) => {
          inFlight++;
          mostInFlight = Math.max(mostInFlight, inFlight);
          try {
            return await next(args);
          } finally {
            inFlight--;
          }
        },
        { step: 'initialize', name: 'inFlightCounter' },
      );
      const calls = countCalls(own);
      const limiter = createRateLimiter({ client: own, tableName: table.name, now: manualClock().now });

      expect(await allowedOf(limiter, `flight-${randomUUID()}`, 200, 1000)).toBe(200);
      expect(mostInFlight).toBe(1);
      expect(calls.total()).toBeLessThanOrEqual(200 / 5);
      expect(await allowedOf(limiter, `flight-${randomUUID()}`, 200, 30)).toBe(30);
      expect(mostInFlight).toBe(1);
    });
  });

  describe('when the state table fails', () => {
    it('falls back to the whole limit in a container that has seen no other, logs once, and recovers', async () => {
      const clock = manualClock();
      const missingTable = `state-missing-${randomUUID()}`;
      const own = testClient();
      const calls = countCalls(own);
      const logger = recordingLogger();
      const limiter = createRateLimiter({
        client: own,
        tableName: missingTable,
        now: clock.now,
        logger,
        fallbackRetryMs: 1000,
        outageLogIntervalMs: 60_000,
      });

      expect(await allowedOf(limiter, 'app-1', 8, 5)).toBe(5);
      expect(calls.total()).toBe(1);
      expect(warnings(logger.records)).toHaveLength(1);
      expect(warnings(logger.records)[0]!.attributes).toMatchObject({
        tableName: missingTable,
        appId: 'app-1',
        kind: 'backend-events',
        error: expect.stringContaining('ResourceNotFoundException'),
      });

      // Until the retry time every decision is local; then one request tries DynamoDB again.
      clock.advance(500);
      expect(await allowedOf(limiter, 'app-1', 3, 5)).toBe(0);
      expect(calls.total()).toBe(1);
      clock.advance(500);
      expect(await allowedOf(limiter, 'app-1', 3, 5)).toBe(3);
      expect(calls.total()).toBe(2);
      expect(warnings(logger.records)).toHaveLength(1);
      expect(limiter.stats()).toMatchObject({ fallbacks: 14, dynamodbErrors: 2, leases: 0 });

      await createTable(client, stateTableDefinition(missingTable));
      try {
        // The retry leases; requests arriving while it is in flight do not wait for it.
        clock.advance(1000);
        expect(await allowedOf(limiter, 'app-1', 3, 5)).toBe(3);
        expect(limiter.stats()).toMatchObject({ fallbacks: 16, dynamodbErrors: 2, leases: 1 });
        // The points the fallback admitted while the retry was in flight are claimed by the next lease.
        expect(await allowedOf(limiter, 'app-1', 3, 5)).toBe(2);
        expect(limiter.stats().fallbacks).toBe(16);
        expect(infos(logger.records)).toHaveLength(1);
        expect(infos(logger.records)[0]!.attributes).toMatchObject({ tableName: missingTable });
      } finally {
        await client.send(new DeleteTableCommand({ TableName: missingTable }));
      }
    });

    it.each([
      ['throttled', DYNAMODB_FAULTS.throttling],
      ['reset', DYNAMODB_FAULTS.reset],
    ])(
      'keeps containers whose leases are %s to their shares: together within the limit',
      async (_, fault) => {
        const limit = 30;
        const proxy = await startDynamoDbProxy(dynamodbEndpoint());
        const clock = manualClock();
        const containers = [1, 2, 3].map(() => container({ now: clock.now, endpoint: proxy.endpoint }));
        const appId = `outage-${randomUUID()}`;
        const first = clock.window();
        try {
          // Each container leases twice in turn (1 token, then 2), so every second lease reads three claimers.
          for (let round = 0; round < 2; round++) {
            for (const { limiter } of containers) {
              expect((await limiter.consume(appId, 'backend-events', 1, limit)).allowed).toBe(true);
            }
          }
          expect(await claimedIn(appId, first)).toMatchObject({ claimed: '9', claimers: '3' });

          proxy.setFault(fault);
          const admitted: number[][] = [];
          for (let window = 0; window < 3; window++) {
            admitted.push(
              await Promise.all(containers.map(({ limiter }) => allowedOf(limiter, appId, 20, limit))),
            );
            clock.advance(1000);
          }
          // ⌊30 / 3⌋ = 10 per container and window: in the first, 2 were admitted before the fault (its
          // grants, 3, are less than its share). The whole limit each would have been 28, 30, 30.
          expect(admitted).toEqual([
            [8, 8, 8],
            [10, 10, 10],
            [10, 10, 10],
          ]);
          expect(containers.map(({ limiter }) => limiter.stats().dynamodbErrors)).toEqual([3, 3, 3]);
        } finally {
          for (const { client } of containers) client.destroy();
          await proxy.close();
        }
      },
    );

    it('falls back at once when nothing listens on the endpoint', async () => {
      const unreachable = testClient({ endpoint: await closedPortEndpoint() });
      const logger = recordingLogger();
      const limiter = createRateLimiter({
        client: unreachable,
        tableName: 'state',
        logger,
        now: manualClock().now,
      });
      expect(await allowedOf(limiter, 'app-1', 4, 3)).toBe(3);
      expect(limiter.stats()).toMatchObject({ fallbacks: 4, dynamodbErrors: 1, dynamodbWrites: 1 });
      expect(warnings(logger.records)).toHaveLength(1);
      expect(warnings(logger.records)[0]!.attributes.error).toMatch(/ECONNREFUSED/);
      unreachable.destroy();
    });

    it('waits for a hung lease no longer than its timeout, and lets no request wait on a retry', async () => {
      const proxy = await startDynamoDbProxy(dynamodbEndpoint());
      proxy.setFault(DYNAMODB_FAULTS.hang);
      const clock = manualClock();
      const hanging = testClient({ endpoint: proxy.endpoint });
      const logger = recordingLogger();
      const limiter = createRateLimiter({
        client: hanging,
        tableName: table.name,
        logger,
        now: clock.now,
        // Long enough that even a cold client on a busy machine sends the lease before giving up on it.
        leaseTimeoutMs: 500,
      });
      try {
        // DynamoDB received the lease and never answered: only the timeout can have ended the wait.
        expect(await allowedOf(limiter, 'app-1', 5, 10)).toBe(5);
        expect(proxy.count('UpdateItem')).toBe(1);
        expect(limiter.stats()).toMatchObject({ dynamodbWrites: 1, dynamodbErrors: 1, fallbacks: 5 });
        expect(warnings(logger.records)[0]!.attributes.error).toMatch(/^AbortError/);

        clock.advance(1000);
        let retrySettled = false;
        const retry = limiter.consume('app-1', 'backend-events', 1, 10).finally(() => {
          retrySettled = true;
        });
        const meanwhile = await limiter.consume('app-1', 'backend-events', 1, 10);
        expect(meanwhile.allowed).toBe(true);
        expect(retrySettled).toBe(false);
        expect(limiter.stats()).toMatchObject({ dynamodbWrites: 2, dynamodbErrors: 1, fallbacks: 6 });
        expect((await retry).allowed).toBe(true);
        expect(proxy.count('UpdateItem')).toBe(2);
        expect(limiter.stats()).toMatchObject({ dynamodbWrites: 2, dynamodbErrors: 2, fallbacks: 7 });
      } finally {
        hanging.destroy();
        await proxy.close();
      }
    });
  });
});
