import type { App } from './app.js';

/**
 * Where apps come from. `undefined` means the app does not exist; every failure to find out
 * rejects (with `StoreUnavailableError`, or a data error for a bad item) and is never "not found".
 */
export interface AppStore {
  findById(id: string): Promise<App | undefined>;
  findByKey(key: string): Promise<App | undefined>;
}
