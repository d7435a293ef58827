import type { App } from './app.js';
import { isPossibleAppIdentifier } from './identifier.js';
import { type AppLookupStats, LookupCounters } from './lookup-stats.js';
import type { AppStore } from './store.js';

/**
 * The store as it is, for `APP_MANAGER_CACHE_ENABLED=false`: every lookup reaches DynamoDB. It keeps
 * the cached store's stats shape (every lookup is a miss) so callers need not care which they have.
 */
export class UncachedAppStore implements AppStore {
  private readonly counters = new LookupCounters();

  constructor(private readonly store: AppStore) {}

  findById(id: string): Promise<App | undefined> {
    return this.lookup(id, () => this.store.findById(id));
  }

  findByKey(key: string): Promise<App | undefined> {
    return this.lookup(key, () => this.store.findByKey(key));
  }

  stats(): AppLookupStats {
    return this.counters.snapshot(0);
  }

  private async lookup(identifier: string, load: () => Promise<App | undefined>): Promise<App | undefined> {
    if (!isPossibleAppIdentifier(identifier)) {
      this.counters.rejected++;
      return undefined;
    }
    this.counters.misses++;
    try {
      return await load();
    } catch (error) {
      this.counters.countFailure(error);
      throw error;
    }
  }
}
