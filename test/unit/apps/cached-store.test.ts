import { describe, expect, it } from 'vitest';
import {
  type AppCacheSettings,
  CachedAppStore,
  STORE_FAILURE_BACKOFF_MS,
} from '../../../src/apps/cached-store.js';
import { UncachedAppStore } from '../../../src/apps/uncached-store.js';
import { ConfigError, InvalidAppItemError, StoreUnavailableError } from '../../../src/errors/errors.js';
import { testApp } from '../../fixtures/apps/items.js';
import { rejectionOf } from '../../fixtures/apps/rejection.js';
import { recordingLogger } from '../../support/recording-logger.js';
import { MemoryAppStore } from './memory-app-store.js';

const SETTINGS: AppCacheSettings = {
  ttlSeconds: 60,
  negativeTtlSeconds: 5,
  staleIfErrorSeconds: 300,
  maxEntries: 100,
};

function setup(settings: Partial<AppCacheSettings> = {}) {
  const store = new MemoryAppStore();
  const clock = { now: 1_000_000 };
  const logger = recordingLogger();
  const cache = new CachedAppStore(store, { ...SETTINGS, ...settings, now: () => clock.now, logger });
  const advance = (seconds: number) => {
    clock.now += seconds * 1000;
  };
  return { store, cache, logger, advance };
}

const unavailable = () => new StoreUnavailableError('DynamoDB is down');

describe('CachedAppStore', () => {
  it('answers a repeated lookup from the cache', async () => {
    const { store, cache } = setup();
    store.put(testApp('a'));
    const first = await cache.findById('a');
    expect(await cache.findById('a')).toBe(first);
    expect(store.calls).toBe(1);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, entries: 1 });
  });

  it('keeps one copy of an app for both indexes: a key lookup also answers the id', async () => {
    const { store, cache } = setup();
    store.put(testApp('a'));
    const byKey = await cache.findByKey('a-key');
    expect(await cache.findById('a')).toBe(byKey);
    expect([store.keyCalls, store.idCalls]).toEqual([1, 0]);
    expect(cache.stats().entries).toBe(2);
  });

  it('still queries by key after an id lookup, since only a key query can see a duplicate', async () => {
    const { store, cache } = setup();
    store.put(testApp('a'));
    await cache.findById('a');
    await cache.findByKey('a-key');
    await cache.findByKey('a-key');
    expect([store.idCalls, store.keyCalls]).toEqual([1, 1]);
  });

  it('keeps ids and keys apart when an id equals another app key', async () => {
    const { store, cache } = setup();
    store.put(testApp('x'), testApp('y', { key: 'x' }));
    expect((await cache.findById('x'))?.id).toBe('x');
    expect((await cache.findByKey('x'))?.id).toBe('y');
    expect((await cache.findById('x'))?.id).toBe('x');
  });

  it('reloads an app once its TTL has passed', async () => {
    const { store, cache, advance } = setup({ ttlSeconds: 60 });
    store.put(testApp('a'));
    await cache.findById('a');
    await cache.findByKey('a-key');
    store.put(testApp('a', { enabled: false }));
    advance(59.999);
    expect((await cache.findById('a'))?.enabled).toBe(true);
    expect((await cache.findByKey('a-key'))?.enabled).toBe(true);
    expect(store.calls).toBe(2);
    advance(0.001);
    expect((await cache.findById('a'))?.enabled).toBe(false);
    expect((await cache.findByKey('a-key'))?.enabled).toBe(false);
    expect(store.calls).toBe(4);
  });

  it('shares one in-flight load among concurrent lookups of one id or key', async () => {
    const { store, cache } = setup();
    store.put(testApp('a'));
    const release = store.hold();
    const byId = Array.from({ length: 100 }, () => cache.findById('a'));
    const byKey = Array.from({ length: 100 }, () => cache.findByKey('a-key'));
    release();
    const apps = await Promise.all([...byId, ...byKey]);
    expect([store.idCalls, store.keyCalls]).toEqual([1, 1]);
    expect(new Set(apps.map((app) => app?.id))).toEqual(new Set(['a']));
    expect(cache.stats()).toMatchObject({ misses: 200, hits: 0 });
  });

  it('shares a failed load too, and does not remember the failure', async () => {
    const { store, cache } = setup();
    store.put(testApp('a'));
    store.failure = unavailable();
    const release = store.hold();
    const lookups = Array.from({ length: 50 }, () => rejectionOf(cache.findById('a')));
    release();
    for (const error of await Promise.all(lookups)) expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(store.calls).toBe(1);
    store.failure = undefined;
    expect((await cache.findById('a'))?.id).toBe('a');
    expect(store.calls).toBe(2);
    expect(cache.stats()).toMatchObject({ errors: 1, staleServed: 0 });
  });

  it('remembers an unknown id or key for the negative TTL', async () => {
    const { store, cache, advance } = setup({ negativeTtlSeconds: 5 });
    for (let i = 0; i < 10; i++) {
      expect(await cache.findById('ghost')).toBeUndefined();
      expect(await cache.findByKey('ghost-key')).toBeUndefined();
    }
    expect(store.calls).toBe(2);
    expect(cache.stats()).toMatchObject({ negativeHits: 18, misses: 2 });
    store.put(testApp('ghost'));
    advance(5);
    expect((await cache.findById('ghost'))?.id).toBe('ghost');
    expect((await cache.findByKey('ghost-key'))?.id).toBe('ghost');
    expect(store.calls).toBe(4);
  });

  it('remembers nothing with a negative TTL of 0', async () => {
    const { store, cache } = setup({ negativeTtlSeconds: 0 });
    await cache.findById('ghost');
    await cache.findById('ghost');
    expect(store.calls).toBe(2);
    expect(cache.stats().entries).toBe(0);
  });

  it('remembers a bad item like a miss and rethrows the same error, so it costs one load per negative TTL', async () => {
    const { store, cache, advance } = setup({ negativeTtlSeconds: 5 });
    const invalid = new InvalidAppItemError('bad', [{ field: 'Enabled', problem: 'must be a boolean' }]);
    store.itemErrors.set('bad', invalid);
    for (let i = 0; i < 5; i++) expect(await rejectionOf(cache.findById('bad'))).toBe(invalid);
    expect(store.calls).toBe(1);
    expect(cache.stats()).toMatchObject({ dataErrors: 1, negativeHits: 4, errors: 0 });
    store.itemErrors.delete('bad');
    store.put(testApp('bad'));
    advance(5);
    expect((await cache.findById('bad'))?.id).toBe('bad');
  });

  it('refuses a duplicated key for the negative TTL without querying again', async () => {
    const { store, cache } = setup();
    store.put(testApp('a', { key: 'shared' }), testApp('b', { key: 'shared' }));
    const first = await rejectionOf(cache.findByKey('shared'));
    expect(first.name).toBe('DuplicateAppKeyError');
    expect(await rejectionOf(cache.findByKey('shared'))).toBe(first);
    expect(store.keyCalls).toBe(1);
  });

  it('does not serve a stale app when its item has become invalid', async () => {
    const { store, cache, advance } = setup();
    store.put(testApp('a'));
    await cache.findById('a');
    advance(61);
    store.itemErrors.set('a', new InvalidAppItemError('a', [{ field: 'Enabled', problem: 'x' }]));
    expect(await rejectionOf(cache.findById('a'))).toBeInstanceOf(InvalidAppItemError);
    expect(cache.stats().staleServed).toBe(0);
  });

  describe('stale-if-error', () => {
    it('serves an expired app while the store fails, within the window, and logs it without the secret', async () => {
      const { store, cache, logger, advance } = setup({ ttlSeconds: 60, staleIfErrorSeconds: 300 });
      store.put(testApp('a'));
      await cache.findById('a');
      await cache.findByKey('a-key');
      store.failure = unavailable();
      advance(60 + 200);
      expect((await cache.findById('a'))?.id).toBe('a');
      expect(cache.stats()).toMatchObject({ staleServed: 1, errors: 1 });
      expect(logger.records.map((record) => record.level)).toEqual(['warn']);
      expect(logger.text()).not.toContain('a-secret');
      // For a moment after a failure, expired apps are served without waiting on the store again.
      expect((await cache.findByKey('a-key'))?.id).toBe('a');
      expect((await cache.findById('a'))?.id).toBe('a');
      expect(store.idCalls + store.keyCalls).toBe(3);
      expect(cache.stats()).toMatchObject({ staleServed: 3, errors: 1 });
      // Then the next lookup probes the store again; a stale app is never remembered as fresh.
      advance(STORE_FAILURE_BACKOFF_MS / 1000);
      expect((await cache.findById('a'))?.id).toBe('a');
      expect(store.idCalls).toBe(3);
      store.failure = undefined;
      advance(STORE_FAILURE_BACKOFF_MS / 1000);
      expect((await cache.findById('a'))?.id).toBe('a');
      expect(store.idCalls).toBe(4);
      expect((await cache.findById('a'))?.id).toBe('a');
      expect(store.idCalls).toBe(4);
    });

    it('throws StoreUnavailableError once the window has passed, or with nothing cached', async () => {
      const { store, cache, advance } = setup({ ttlSeconds: 60, staleIfErrorSeconds: 300 });
      store.put(testApp('a'));
      await cache.findById('a');
      store.failure = unavailable();
      advance(360);
      expect(await rejectionOf(cache.findById('a'))).toBeInstanceOf(StoreUnavailableError);
      expect(await rejectionOf(cache.findByKey('a-key'))).toBeInstanceOf(StoreUnavailableError);
      expect(await rejectionOf(cache.findById('never-seen'))).toBeInstanceOf(StoreUnavailableError);
      expect(cache.stats()).toMatchObject({ staleServed: 0, errors: 3 });
    });

    it('does not serve an app under a key it no longer has', async () => {
      const { store, cache, advance } = setup({ ttlSeconds: 60, staleIfErrorSeconds: 300 });
      store.put(testApp('a', { key: 'old' }));
      await cache.findByKey('old');
      advance(61);
      store.put(testApp('a', { key: 'new' }));
      expect((await cache.findById('a'))?.key).toBe('new');
      store.failure = unavailable();
      expect(await rejectionOf(cache.findByKey('old'))).toBeInstanceOf(StoreUnavailableError);
    });

    it('wraps a store failure of another kind in StoreUnavailableError, keeping the cause', async () => {
      const { store, cache } = setup();
      const cause = new TypeError('socket closed');
      store.failure = cause;
      const error = await rejectionOf(cache.findById('a'));
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(error.cause).toBe(cause);
    });

    it('serves stale data even with a TTL of 0', async () => {
      const { store, cache } = setup({ ttlSeconds: 0, staleIfErrorSeconds: 10 });
      store.put(testApp('a'));
      await cache.findById('a');
      await cache.findById('a');
      expect(store.calls).toBe(2);
      store.failure = unavailable();
      expect((await cache.findById('a'))?.id).toBe('a');
    });
  });

  describe('bound', () => {
    it('evicts the least recently used entry, counting every kind of entry', async () => {
      const { store, cache } = setup({ maxEntries: 3 });
      store.put(testApp('a'), testApp('b'), testApp('c'));
      await cache.findById('a');
      await cache.findById('b');
      await cache.findById('ghost');
      await cache.findById('a'); // now b is the least recently used
      await cache.findById('c');
      expect(cache.stats()).toMatchObject({ entries: 3, evictions: 1 });
      const calls = store.calls;
      await cache.findById('a');
      await cache.findById('ghost');
      expect(store.calls).toBe(calls);
      await cache.findById('b');
      expect(store.calls).toBe(calls + 1);
    });

    it('counts a key lookup as two entries (the alias and the app)', async () => {
      const { store, cache } = setup({ maxEntries: 2 });
      store.put(testApp('a'), testApp('b'));
      await cache.findByKey('a-key');
      expect(cache.stats().entries).toBe(2);
      await cache.findByKey('b-key');
      expect(cache.stats()).toMatchObject({ entries: 2, evictions: 2 });
      await cache.findByKey('b-key');
      expect(store.keyCalls).toBe(2);
    });

    it('cannot be grown by a flood of unknown keys, nor have its apps pushed out by one', async () => {
      const { store, cache } = setup({ maxEntries: 50 });
      const apps = Array.from({ length: 30 }, (_, i) => testApp(`app-${i}`));
      store.put(...apps);
      for (const app of apps) await cache.findById(app.id);
      for (let i = 0; i < 500; i++) await cache.findByKey(`random-${i}`);
      // Remembered misses may take a quarter of the bound: 12 of 50.
      expect(cache.stats()).toMatchObject({ entries: 42, evictions: 488 });
      const calls = store.idCalls;
      for (const app of apps) await cache.findById(app.id);
      expect(store.idCalls).toBe(calls);
    });
  });

  it('follows a key rotation: the old key is no longer answered from the cache', async () => {
    const { store, cache, advance } = setup({ ttlSeconds: 60 });
    store.put(testApp('a', { key: 'old' }));
    await cache.findByKey('old');
    store.put(testApp('a', { key: 'new' }));
    advance(60);
    expect((await cache.findById('a'))?.key).toBe('new');
    expect(await cache.findByKey('old')).toBeUndefined();
    expect((await cache.findByKey('new'))?.id).toBe('a');
    expect(store.keyCalls).toBe(3);
  });

  it('follows a deleted app: a key lookup does not answer from a dangling alias', async () => {
    const { store, cache, advance } = setup({ ttlSeconds: 60 });
    store.put(testApp('a'));
    await cache.findByKey('a-key');
    store.apps.delete('a');
    advance(60);
    expect(await cache.findById('a')).toBeUndefined();
    expect(await cache.findByKey('a-key')).toBeUndefined();
    expect(store.keyCalls).toBe(2);
  });

  it.each([
    ['empty', ''],
    ['over 256 characters', 'k'.repeat(257)],
    ['with a NUL', 'a\u0000b'],
    ['with a newline', 'a\nb'],
    ['with a C1 control', 'a\u0085b'],
  ])('answers an id or key %s as unknown without a load or a cache entry', async (_, impossible) => {
    const { store, cache } = setup();
    expect(await cache.findById(impossible)).toBeUndefined();
    expect(await cache.findByKey(impossible)).toBeUndefined();
    expect(store.calls).toBe(0);
    expect(cache.stats()).toMatchObject({ rejected: 2, entries: 0, misses: 0 });
  });

  it('accepts an id of exactly 256 characters', async () => {
    const { store, cache } = setup();
    const id = 'i'.repeat(256);
    store.put(testApp(id));
    expect((await cache.findById(id))?.id).toBe(id);
  });

  it('returns stats as a snapshot, not a live view', async () => {
    const { store, cache } = setup();
    store.put(testApp('a'));
    const before = cache.stats();
    await cache.findById('a');
    expect(before).toEqual({
      hits: 0,
      negativeHits: 0,
      misses: 0,
      staleServed: 0,
      errors: 0,
      dataErrors: 0,
      rejected: 0,
      evictions: 0,
      entries: 0,
    });
    expect(cache.stats().misses).toBe(1);
  });

  it.each([
    [{ ttlSeconds: -1 }, 'ttlSeconds'],
    [{ negativeTtlSeconds: Number.NaN }, 'negativeTtlSeconds'],
    [{ staleIfErrorSeconds: Number.POSITIVE_INFINITY }, 'staleIfErrorSeconds'],
    [{ maxEntries: 0 }, 'maxEntries'],
    [{ maxEntries: 1.5 }, 'maxEntries'],
  ])('refuses bad settings %o', (settings, variable) => {
    expect(() => setup(settings)).toThrow(ConfigError);
    expect(() => setup(settings)).toThrow(new RegExp(`^${variable}:`));
  });
});

describe('UncachedAppStore', () => {
  it('asks the store every time and counts every lookup as a miss', async () => {
    const store = new MemoryAppStore().put(testApp('a'));
    const uncached = new UncachedAppStore(store);
    await uncached.findById('a');
    await uncached.findById('a');
    await uncached.findByKey('a-key');
    await uncached.findById('');
    store.failure = unavailable();
    expect(await rejectionOf(uncached.findById('a'))).toBeInstanceOf(StoreUnavailableError);
    expect(store.calls).toBe(4);
    expect(uncached.stats()).toMatchObject({ hits: 0, misses: 4, rejected: 1, errors: 1, entries: 0 });
  });
});
