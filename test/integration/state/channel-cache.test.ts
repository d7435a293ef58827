import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CACHE_MISS_WEBHOOK_WINDOW_SECONDS,
  CACHE_TTL_SECONDS,
  claimCacheMissReport,
  lastEvent,
  storeLastEvent,
} from '../../../src/state/channel-cache.js';
import type { StateTable } from '../../../src/state/table.js';
import { stateTestTable } from '../../support/dynamodb.js';

let state: StateTable;
let drop: () => Promise<void>;

beforeAll(async () => {
  ({ state, drop } = await stateTestTable('channel-cache'));
});

afterAll(() => drop());

const NOW = 1_800_000_000_000;
const SECOND = 1_000;
const channel = () => `cache-${randomUUID()}`;

describe('a cache channel’s last event', () => {
  it('is the last one stored, with the whole seconds it has left, until its 30 minutes are up', async () => {
    const name = channel();
    await storeLastEvent(state, 'app', name, { name: 'e', data: '1' }, NOW);
    await storeLastEvent(state, 'app', name, { name: 'f', data: '{"v":2}' }, NOW + 10 * SECOND);

    expect(await lastEvent(state, 'app', name, NOW + 10 * SECOND)).toEqual({
      event: 'f',
      data: '{"v":2}',
      ttlSeconds: CACHE_TTL_SECONDS,
    });
    expect((await lastEvent(state, 'app', name, NOW + 100 * SECOND))?.ttlSeconds).toBe(
      CACHE_TTL_SECONDS - 90,
    );
    // Expired, though DynamoDB's TTL has not deleted it.
    expect(await lastEvent(state, 'app', name, NOW + (10 + CACHE_TTL_SECONDS) * SECOND)).toBeUndefined();
    expect(await lastEvent(state, 'other-app', name, NOW)).toBeUndefined();
  });
});

describe('claimCacheMissReport', () => {
  it('grants one report per window while the channel stays empty, none while it holds an event, and a fresh one once a publish ends the empty period', async () => {
    const name = channel();
    const windowMs = CACHE_MISS_WEBHOOK_WINDOW_SECONDS * SECOND;

    expect(await claimCacheMissReport(state, 'app', name, NOW)).toBe(true);
    expect(await claimCacheMissReport(state, 'app', name, NOW + SECOND)).toBe(false);
    expect(await lastEvent(state, 'app', name, NOW + SECOND)).toBeUndefined();
    expect(await claimCacheMissReport(state, 'app', name, NOW + windowMs)).toBe(true);

    await storeLastEvent(state, 'app', name, { name: 'e', data: 'd' }, NOW + windowMs + SECOND);
    expect(await claimCacheMissReport(state, 'app', name, NOW + windowMs + 2 * SECOND)).toBe(false);
    // Once the event expires, the next miss is reported at once: the publish ended the last window.
    const expired = NOW + windowMs + (1 + CACHE_TTL_SECONDS) * SECOND;
    expect(await claimCacheMissReport(state, 'app', name, expired)).toBe(true);
    expect(await lastEvent(state, 'app', name, expired)).toBeUndefined();
  });

  it('grants one report to many subscribes at once', async () => {
    const name = channel();
    const claims = await Promise.all(
      Array.from({ length: 10 }, () => claimCacheMissReport(state, 'app', name, NOW)),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
  });
});
