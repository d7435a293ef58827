import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNLIMITED } from '../../../src/apps/app.js';
import { createRateLimiter, type RateLimiterOptions } from '../../../src/limits/rate-limiter.js';
import { closedPortEndpoint } from '../../support/aws-json-proxy.js';
import { countCalls, testClient } from '../../support/dynamodb.js';

/** The decisions a limiter makes before any DynamoDB call: its client points where nothing listens. */
describe('createRateLimiter without DynamoDB', () => {
  let endpoint: string;
  const clients: DynamoDBClient[] = [];

  beforeAll(async () => {
    endpoint = await closedPortEndpoint();
  });
  afterAll(() => {
    for (const client of clients) client.destroy();
  });

  function limiterWithCalls(options: Partial<RateLimiterOptions> = {}) {
    const client = testClient({ endpoint });
    clients.push(client);
    return {
      limiter: createRateLimiter({ client, tableName: 'state', ...options }),
      calls: countCalls(client),
    };
  }

  it('allows an unlimited app at once, and any negative limit exactly like an unlimited one', async () => {
    const { limiter, calls } = limiterWithCalls();
    const unlimited = {
      allowed: true,
      limit: UNLIMITED,
      remaining: UNLIMITED,
      resetSeconds: 0,
      fitsAnyWindow: true,
    };
    for (const limit of [UNLIMITED, -1, -0.5, -1_000_000, Number.NEGATIVE_INFINITY]) {
      expect(await limiter.consume('unlimited', 'backend-events', 100, limit)).toEqual(unlimited);
      expect(await limiter.consume('unlimited', 'read-requests', 1, limit)).toEqual(unlimited);
    }
    expect(calls.total()).toBe(0);
    expect(limiter.stats()).toMatchObject({ allowed: 10, refused: 0, localDecisions: 10, dynamodbWrites: 0 });
  });

  it('refuses everything for a zero limit, as requests no window can ever fit', async () => {
    const { limiter, calls } = limiterWithCalls({ now: () => 1_700_000_000_250 });
    for (const points of [1, 5]) {
      expect(await limiter.consume('zero', 'read-requests', points, 0)).toEqual({
        allowed: false,
        limit: 0,
        remaining: 0,
        resetSeconds: 0.75,
        fitsAnyWindow: false,
      });
    }
    expect(calls.total()).toBe(0);
    expect(limiter.stats()).toMatchObject({ allowed: 0, refused: 2, localDecisions: 2 });
  });

  it('refuses a request of more points than the limit as one no window can ever fit', async () => {
    const { limiter, calls } = limiterWithCalls();
    const decision = await limiter.consume('small', 'backend-events', 11, 10);
    expect(decision).toMatchObject({ allowed: false, limit: 10, remaining: 10, fitsAnyWindow: false });
    // A fractional limit holds its whole points only.
    expect(await limiter.consume('small', 'backend-events', 11, 10.9)).toMatchObject({
      fitsAnyWindow: false,
    });
    expect(calls.total()).toBe(0);
  });

  it('rejects points that are not a positive integer, and a NaN limit, as programming errors', async () => {
    const { limiter, calls } = limiterWithCalls();
    for (const points of [0, -1, 1.5, Number.NaN]) {
      await expect(limiter.consume('app', 'backend-events', points, 10)).rejects.toThrow(RangeError);
    }
    await expect(limiter.consume('app', 'backend-events', 1, Number.NaN)).rejects.toThrow(
      'Rate limit per second must be a number, got NaN',
    );
    expect(calls.total()).toBe(0);
    expect(limiter.stats()).toMatchObject({ allowed: 0, refused: 0 });
  });
});
