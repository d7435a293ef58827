import type { AppCacheConfig } from '../config/config.js';
import { ConfigError, StoreUnavailableError } from '../errors/errors.js';
import { describeError } from '../errors/format.js';
import type { StructuredLogger } from '../observability/logger.js';
import type { App } from './app.js';
import { isPossibleAppIdentifier } from './identifier.js';
import { type AppLookupStats, isAppDataError, LookupCounters } from './lookup-stats.js';
import type { AppStore } from './store.js';

export type AppCacheSettings = Omit<AppCacheConfig, 'enabled'>;

export interface CachedAppStoreOptions extends AppCacheSettings {
  /** Milliseconds since the epoch; injectable so tests can move time. */
  readonly now?: () => number;
  /** Where serving a stale app is reported. */
  readonly logger?: StructuredLogger;
}

/** A found app: the one copy both indexes share. */
interface AppEntry {
  readonly kind: 'app';
  readonly app: App;
  readonly expiresAt: number;
  readonly staleUntil: number;
}

/** key → id. Its own times, because only a Query by key proves no other app took the key. */
interface AliasEntry {
  readonly kind: 'alias';
  readonly id: string;
  readonly expiresAt: number;
  readonly staleUntil: number;
}

/** A remembered "no such app". */
interface AbsentEntry {
  readonly kind: 'absent';
  readonly expiresAt: number;
}

/** A remembered bad item or duplicated key: rethrown until it expires, so it costs one read per negative TTL. */
interface DataErrorEntry {
  readonly kind: 'dataError';
  readonly error: Error;
  readonly expiresAt: number;
}

type Entry = AppEntry | AliasEntry | AbsentEntry | DataErrorEntry;

/** What the cache knows about one lookup: a fresh answer, an expired app, or nothing. */
type Cached =
  | { readonly fresh: true; readonly app: App | undefined; readonly error?: Error; readonly slots: string[] }
  | { readonly fresh: false; readonly staleApp: App };

/** One lookup by id or by key: its slot, how to read it from the cache, load it and remember it. */
interface Lookup {
  readonly identifier: string;
  readonly slot: string;
  readCache(now: number): Cached | undefined;
  load(): Promise<App | undefined>;
  remember(app: App, now: number): void;
}

interface LoadResult {
  readonly app: App | undefined;
  readonly stale: boolean;
}

/**
 * After the store fails, expired apps are served straight from the cache for this long instead of each
 * lookup waiting out another failing call (the client's timeout and retries take seconds); the first lookup
 * after it probes the store again.
 */
export const STORE_FAILURE_BACKOFF_MS = 5_000;

/** Share of the bound that remembered misses and bad items may take, so a flood of made-up ids or keys
 * cannot push real apps out of the cache. */
const NEGATIVE_SHARE = 0.25;

// The two indexes share one LRU order (so the bound counts every entry) but never a name: an app
// whose key equals another app's id cannot collide, unlike soketi's `app:<x>` namespace.
const idSlot = (id: string) => `id:${id}`;
const keySlot = (key: string) => `key:${key}`;

/**
 * A warm-container cache in front of an `AppStore`: ids and keys in separate indexes over one copy
 * of each app, a TTL, single flight (concurrent lookups of one id or key share one load), negative
 * caching, stale-if-error and an LRU bound. A store failure is never cached and never becomes
 * "not found". All state lives in the instance: one instance may serve many concurrent invocations.
 */
export class CachedAppStore implements AppStore {
  private readonly entries = new Map<string, Entry>();
  /** The slots of remembered misses and bad items, oldest first (a subset of `entries`). */
  private readonly negativeSlots = new Set<string>();
  private readonly maxNegativeEntries: number;
  private storeFailingUntil = Number.NEGATIVE_INFINITY;
  private readonly loads = new Map<string, Promise<LoadResult>>();
  private readonly counters = new LookupCounters();
  private readonly ttlMs: number;
  private readonly negativeTtlMs: number;
  private readonly staleIfErrorMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly logger: StructuredLogger | undefined;

  constructor(
    private readonly store: AppStore,
    options: CachedAppStoreOptions,
  ) {
    this.ttlMs = seconds('ttlSeconds', options.ttlSeconds) * 1000;
    this.negativeTtlMs = seconds('negativeTtlSeconds', options.negativeTtlSeconds) * 1000;
    this.staleIfErrorMs = seconds('staleIfErrorSeconds', options.staleIfErrorSeconds) * 1000;
    if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1) {
      throw new ConfigError('maxEntries', `expected a whole number of at least 1, got ${options.maxEntries}`);
    }
    this.maxEntries = options.maxEntries;
    this.maxNegativeEntries = Math.max(1, Math.floor(options.maxEntries * NEGATIVE_SHARE));
    this.now = options.now ?? Date.now;
    this.logger = options.logger;
  }

  findById(id: string): Promise<App | undefined> {
    return this.lookup({
      identifier: id,
      slot: idSlot(id),
      readCache: (now) => this.cachedById(id, now),
      load: () => this.store.findById(id),
      remember: (app, now) => this.rememberApp(app, now),
    });
  }

  findByKey(key: string): Promise<App | undefined> {
    return this.lookup({
      identifier: key,
      slot: keySlot(key),
      readCache: (now) => this.cachedByKey(key, now),
      load: () => this.store.findByKey(key),
      remember: (app, now) => {
        this.rememberApp(app, now);
        this.set(keySlot(key), { kind: 'alias', id: app.id, ...this.appTimes(now) }, now);
      },
    });
  }

  stats(): AppLookupStats {
    return this.counters.snapshot(this.entries.size);
  }

  private async lookup(lookup: Lookup): Promise<App | undefined> {
    if (!isPossibleAppIdentifier(lookup.identifier)) {
      this.counters.rejected++;
      return undefined;
    }
    const now = this.now();
    const cached = lookup.readCache(now);
    if (cached !== undefined && !cached.fresh && now < this.storeFailingUntil) {
      this.counters.staleServed++;
      return cached.staleApp;
    }
    if (cached?.fresh) {
      for (const touched of cached.slots) this.touch(touched);
      if (cached.app !== undefined) this.counters.hits++;
      else this.counters.negativeHits++;
      if (cached.error !== undefined) throw cached.error;
      return cached.app;
    }
    this.counters.misses++;
    let pending = this.loads.get(lookup.slot);
    if (pending === undefined) {
      const started = this.load(lookup).finally(() => {
        if (this.loads.get(lookup.slot) === started) this.loads.delete(lookup.slot);
      });
      pending = started;
      this.loads.set(lookup.slot, pending);
    }
    const result = await pending;
    if (result.stale) this.counters.staleServed++;
    return result.app;
  }

  private async load(lookup: Lookup): Promise<LoadResult> {
    try {
      const app = await lookup.load();
      const now = this.now();
      if (app === undefined)
        this.set(lookup.slot, { kind: 'absent', expiresAt: now + this.negativeTtlMs }, now);
      else lookup.remember(app, now);
      return { app, stale: false };
    } catch (error) {
      this.counters.countFailure(error);
      const now = this.now();
      if (isAppDataError(error)) {
        this.set(lookup.slot, { kind: 'dataError', error, expiresAt: now + this.negativeTtlMs }, now);
        throw error;
      }
      this.storeFailingUntil = now + STORE_FAILURE_BACKOFF_MS;
      const cached = lookup.readCache(now);
      if (cached !== undefined && !cached.fresh) {
        this.logger?.warn('App store failed; serving the cached app past its TTL', {
          lookup: lookup.slot,
          appId: cached.staleApp.id,
          error: describeError(error),
        });
        return { app: cached.staleApp, stale: true };
      }
      throw error instanceof StoreUnavailableError
        ? error
        : new StoreUnavailableError(`App store unavailable: ${describeError(error)}`, { cause: error });
    }
  }

  private cachedById(id: string, now: number): Cached | undefined {
    const slot = idSlot(id);
    const entry = this.entries.get(slot);
    if (entry?.kind !== 'app') return rememberedFailure(entry, slot, now);
    if (entry.expiresAt > now) return { fresh: true, app: entry.app, slots: [slot] };
    return entry.staleUntil > now ? { fresh: false, staleApp: entry.app } : undefined;
  }

  private cachedByKey(key: string, now: number): Cached | undefined {
    const slot = keySlot(key);
    const alias = this.entries.get(slot);
    if (alias?.kind !== 'alias') return rememberedFailure(alias, slot, now);
    const target = this.entries.get(idSlot(alias.id));
    // The app may have been evicted, deleted or given another key (rotated) since the alias was written.
    if (target?.kind !== 'app' || target.app.key !== key) return undefined;
    if (alias.expiresAt > now) return { fresh: true, app: target.app, slots: [idSlot(alias.id), slot] };
    return alias.staleUntil > now ? { fresh: false, staleApp: target.app } : undefined;
  }

  private rememberApp(app: App, now: number): void {
    this.set(idSlot(app.id), { kind: 'app', app, ...this.appTimes(now) }, now);
  }

  private appTimes(now: number): { expiresAt: number; staleUntil: number } {
    return { expiresAt: now + this.ttlMs, staleUntil: now + this.ttlMs + this.staleIfErrorMs };
  }

  private set(slot: string, entry: Entry, now: number): void {
    this.drop(slot);
    // With a zero TTL (or negative TTL) an entry would be dead on arrival; it must not push live ones out.
    const usefulUntil = 'staleUntil' in entry ? entry.staleUntil : entry.expiresAt;
    if (usefulUntil <= now) return;
    this.entries.set(slot, entry);
    if (entry.kind === 'absent' || entry.kind === 'dataError') {
      this.negativeSlots.add(slot);
      // A Set iterates in insertion order: the first slot is the oldest remembered miss.
      if (this.negativeSlots.size > this.maxNegativeEntries)
        this.evict(this.negativeSlots.values().next().value!);
    }
    // A Map iterates in insertion order, so the first key is the least recently used.
    while (this.entries.size > this.maxEntries) this.evict(this.entries.keys().next().value!);
  }

  private evict(slot: string): void {
    this.drop(slot);
    this.counters.evictions++;
  }

  private drop(slot: string): void {
    this.entries.delete(slot);
    this.negativeSlots.delete(slot);
  }

  private touch(slot: string): void {
    const entry = this.entries.get(slot);
    if (entry === undefined) return;
    this.entries.delete(slot);
    this.entries.set(slot, entry);
  }
}

function rememberedFailure(entry: Entry | undefined, slot: string, now: number): Cached | undefined {
  if (entry === undefined || entry.expiresAt <= now) return undefined;
  if (entry.kind === 'absent') return { fresh: true, app: undefined, slots: [slot] };
  if (entry.kind === 'dataError') return { fresh: true, app: undefined, error: entry.error, slots: [slot] };
  return undefined;
}

function seconds(name: keyof AppCacheSettings, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new ConfigError(name, `expected a number of seconds of at least 0, got ${value}`);
  }
  return value;
}
