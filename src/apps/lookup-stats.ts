import { DuplicateAppKeyError, InvalidAppItemError } from '../errors/errors.js';

/** Counters of one resolver since it was created, as a plain snapshot (the handlers log them). */
export interface AppLookupStats {
  /** Lookups answered from a fresh cached app. */
  readonly hits: number;
  /** Lookups answered from a remembered miss or a remembered bad item. */
  readonly negativeHits: number;
  /** Lookups that waited for the store, alone or sharing another caller's in-flight load. */
  readonly misses: number;
  /** Lookups answered with an expired app because the store failed. */
  readonly staleServed: number;
  /** Store loads that failed: DynamoDB throttled, erred, timed out, was unreachable or refused access. */
  readonly errors: number;
  /** Store loads that found a bad item or a duplicated key. */
  readonly dataErrors: number;
  /** Lookups of ids or keys that cannot exist (empty, too long, control characters), answered without a load. */
  readonly rejected: number;
  /** Cache entries dropped to stay within the bound. */
  readonly evictions: number;
  /** Cache entries held now: apps, key aliases, remembered misses and bad items. */
  readonly entries: number;
}

/** Errors about the data itself: retrying will not help until someone fixes the item. */
export function isAppDataError(error: unknown): error is InvalidAppItemError | DuplicateAppKeyError {
  return error instanceof InvalidAppItemError || error instanceof DuplicateAppKeyError;
}

export class LookupCounters {
  hits = 0;
  negativeHits = 0;
  misses = 0;
  staleServed = 0;
  errors = 0;
  dataErrors = 0;
  rejected = 0;
  evictions = 0;

  countFailure(error: unknown): void {
    if (isAppDataError(error)) this.dataErrors++;
    else this.errors++;
  }

  snapshot(entries: number): AppLookupStats {
    const { hits, negativeHits, misses, staleServed, errors, dataErrors, rejected, evictions } = this;
    return { hits, negativeHits, misses, staleServed, errors, dataErrors, rejected, evictions, entries };
  }
}
