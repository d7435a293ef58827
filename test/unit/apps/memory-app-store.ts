import type { App } from '../../../src/apps/app.js';
import type { AppStore } from '../../../src/apps/store.js';
import { DuplicateAppKeyError } from '../../../src/errors/errors.js';

/**
 * An in-memory `AppStore` for cache logic: apps by id, calls counted, and switches for the outcomes
 * a real store has (a failure, a bad item, a held response).
 */
export class MemoryAppStore implements AppStore {
  readonly apps = new Map<string, App>();
  /** Errors thrown for one id or key, as DynamoDbAppStore throws InvalidAppItemError for a bad item. */
  readonly itemErrors = new Map<string, Error>();
  /** Thrown by every call while set, as DynamoDbAppStore throws StoreUnavailableError. */
  failure: Error | undefined;
  idCalls = 0;
  keyCalls = 0;
  private gate: Promise<void> = Promise.resolve();

  put(...apps: App[]): this {
    for (const app of apps) this.apps.set(app.id, app);
    return this;
  }

  get calls(): number {
    return this.idCalls + this.keyCalls;
  }

  /** Holds every answer until the returned function is called. */
  hold(): () => void {
    let release!: () => void;
    this.gate = new Promise((resolve) => {
      release = resolve;
    });
    return () => {
      release();
      this.gate = Promise.resolve();
    };
  }

  async findById(id: string): Promise<App | undefined> {
    this.idCalls++;
    await this.answer(id);
    return this.apps.get(id);
  }

  async findByKey(key: string): Promise<App | undefined> {
    this.keyCalls++;
    await this.answer(key);
    const matches = [...this.apps.values()].filter((app) => app.key === key);
    if (matches.length > 1)
      throw new DuplicateAppKeyError(
        key,
        matches.map((app) => app.id),
      );
    return matches[0];
  }

  private async answer(idOrKey: string): Promise<void> {
    await this.gate;
    if (this.failure !== undefined) throw this.failure;
    const itemError = this.itemErrors.get(idOrKey);
    if (itemError !== undefined) throw itemError;
  }
}
