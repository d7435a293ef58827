import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { UNLIMITED } from '../apps/app.js';
import { createLogger, DEFAULT_SERVICE_NAME, type StructuredLogger } from '../observability/logger.js';
import {
  type ContainersSeen,
  containersSeen,
  fallbackAllowance,
  NO_CONTAINERS_SEEN,
  seeClaimers,
} from './fallback-share.js';
import { leaseSize, smoothDemand } from './lease-size.js';
import { OutageLog } from './outage-log.js';
import { leaseTokens, type WindowItem } from './token-lease.js';

/** What is counted, per app. Client events are per connection and will get their own kind. */
export type RateLimitKind = 'backend-events' | 'read-requests' | 'client-events';

/** Enough for `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `Retry-After` (`Math.ceil(resetSeconds)`). */
export interface RateLimitDecision {
  readonly allowed: boolean;
  /** Points per second; `Infinity` for an unlimited app (send no rate-limit headers then). */
  readonly limit: number;
  /** Points still available in this window as far as this container knows (an upper bound). */
  readonly remaining: number;
  /** Seconds until the current one-second window ends, in (0, 1]; 0 for an unlimited app. */
  readonly resetSeconds: number;
  /**
   * False when the request needs more points than a whole window holds (`limit`): it is refused in every
   * window, so a retry can never succeed (answer it as a bad request, not as "too many").
   */
  readonly fitsAnyWindow: boolean;
}

export interface RateLimiterStats {
  /** Decisions that allowed the request, all kinds together. */
  readonly allowed: number;
  readonly refused: number;
  /** Decisions made without waiting for DynamoDB: tokens in hand, known exhaustion, unlimited or zero limits. */
  readonly localDecisions: number;
  /** Lease writes that got tokens (all they asked for, or what the window had left). */
  readonly leases: number;
  /** Lease writes that got none: the window's budget was gone. Each container learns it once per window. */
  readonly leaseFailures: number;
  /** Decisions made by the per-container fallback limiter while the state table failed. */
  readonly fallbacks: number;
  /** `UpdateItem` calls sent, failed ones included. The limiter makes no other DynamoDB call. */
  readonly dynamodbWrites: number;
  /** Calls that failed: throttling, network, missing table, timeout. */
  readonly dynamodbErrors: number;
}

export interface RateLimiter {
  /**
   * Takes `points` (a positive integer) from the app's budget of `limitPerSecond` for the current window.
   * `Infinity` or any negative limit (unlimited, the project's one convention) allows at once; a request of
   * more points than the limit (any request, for a limit of 0) is refused at once with `fitsAnyWindow` false;
   * neither calls DynamoDB.
   *
   * @throws RangeError for `points` that are not a positive integer, or a NaN limit: both are caller bugs.
   */
  consume(
    appId: string,
    kind: RateLimitKind,
    points: number,
    limitPerSecond: number,
  ): Promise<RateLimitDecision>;
  stats(): RateLimiterStats;
}

export interface RateLimiterOptions {
  readonly client: DynamoDBClient;
  /** The state table (`STATE_TABLE`). */
  readonly tableName: string;
  /** Epoch milliseconds; windows are its epoch seconds. */
  readonly now?: () => number;
  readonly logger?: StructuredLogger;
  /** A lease that takes longer counts as a state-table failure. */
  readonly leaseTimeoutMs?: number;
  /** After a failure, how long an app's limit is decided locally before DynamoDB is tried again. */
  readonly fallbackRetryMs?: number;
  /** State-table failures are logged at most once per this interval. */
  readonly outageLogIntervalMs?: number;
  /** Window items expire this many seconds after their window starts. */
  readonly windowTtlSeconds?: number;
  /**
   * Limits (app and kind) tracked per container. Beyond it, the one whose current window started longest
   * ago is forgotten (losing only its demand estimate and unspent tokens: never safety).
   */
  readonly maxTrackedKeys?: number;
}

export type RateLimiterTuning = Required<Omit<RateLimiterOptions, 'client' | 'tableName' | 'now' | 'logger'>>;

export const RATE_LIMITER_DEFAULTS: RateLimiterTuning = Object.freeze({
  leaseTimeoutMs: 500,
  fallbackRetryMs: 1_000,
  outageLogIntervalMs: 60_000,
  windowTtlSeconds: 10,
  maxTrackedKeys: 10_000,
});

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  return new SharedRateLimiter(options);
}

/** One app's limit of one kind, as this container sees it. */
interface LimitState {
  /** Epoch second of the window the fields below describe. */
  window: number;
  /** Leased for `window` and not yet spent. */
  tokens: number;
  /** Granted to this container for `window`, spent or not (the fallback limiter's points claimed later included). */
  granted: number;
  /** Claimed by all containers in `window`, as last seen: only grows, so `limit - claimedInWindow` bounds what is left. */
  claimedInWindow: number;
  previousLease: number;
  /**
   * Points asked for by requests that arrived in `window`, learned into `demandRate` when it ends. A request
   * still waiting for a lease when the window rolls stays counted here (once), and in `waiting` for the
   * next window's lease.
   */
  requested: number;
  /** Points admitted in `window`. */
  admitted: number;
  /** Points the fallback limiter admitted in `window` that no lease has claimed yet: the next lease claims them. */
  unclaimed: number;
  /** Smoothed points per second asked for in completed windows. */
  demandRate: number;
  /** How many containers share this limit, as leases read it: the fallback limiter's divisor. Kept across windows. */
  seen: ContainersSeen;
  /** Points of the requests now waiting for a lease. */
  waiting: number;
  /** The lease in flight: one at a time per limit per container (single flight). */
  lease: Promise<void> | undefined;
  /** The last call failed: decide locally until `retryAt`, then let one request try DynamoDB again. */
  degraded: boolean;
  retryAt: number;
}

const UNLIMITED_DECISION: RateLimitDecision = Object.freeze({
  allowed: true,
  limit: UNLIMITED,
  remaining: UNLIMITED,
  resetSeconds: 0,
  fitsAnyWindow: true,
});

const windowOf = (at: number): number => Math.floor(at / 1000);
const secondsLeftInWindow = (at: number): number => (1000 * (windowOf(at) + 1) - at) / 1000;

class SharedRateLimiter implements RateLimiter {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly now: () => number;
  private readonly outageLog: OutageLog;
  private readonly settings: RateLimiterTuning;
  private readonly limits = new Map<string, LimitState>();
  private readonly counters = {
    allowed: 0,
    refused: 0,
    localDecisions: 0,
    leases: 0,
    leaseFailures: 0,
    fallbacks: 0,
    dynamodbWrites: 0,
    dynamodbErrors: 0,
  };

  constructor(options: RateLimiterOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.now = options.now ?? Date.now;
    this.settings = {
      leaseTimeoutMs: options.leaseTimeoutMs ?? RATE_LIMITER_DEFAULTS.leaseTimeoutMs,
      fallbackRetryMs: options.fallbackRetryMs ?? RATE_LIMITER_DEFAULTS.fallbackRetryMs,
      outageLogIntervalMs: options.outageLogIntervalMs ?? RATE_LIMITER_DEFAULTS.outageLogIntervalMs,
      windowTtlSeconds: options.windowTtlSeconds ?? RATE_LIMITER_DEFAULTS.windowTtlSeconds,
      maxTrackedKeys: options.maxTrackedKeys ?? RATE_LIMITER_DEFAULTS.maxTrackedKeys,
    };
    this.outageLog = new OutageLog(
      options.logger ?? createLogger(DEFAULT_SERVICE_NAME, 'rate-limiter'),
      options.tableName,
      this.settings.outageLogIntervalMs,
    );
  }

  stats(): RateLimiterStats {
    return { ...this.counters };
  }

  async consume(
    appId: string,
    kind: RateLimitKind,
    points: number,
    limitPerSecond: number,
  ): Promise<RateLimitDecision> {
    if (!Number.isInteger(points) || points < 1) {
      throw new RangeError(`Rate limit points must be a positive integer, got ${points}`);
    }
    // NaN cannot come from an app item (parsing rejects it), so it is a caller bug: refusing every request
    // would pass for a rate limit and hide it, allowing them would lift a limit nobody lifted.
    if (Number.isNaN(limitPerSecond)) throw new RangeError('Rate limit per second must be a number, got NaN');
    if (limitPerSecond === UNLIMITED || limitPerSecond < 0) {
      this.count(true, false);
      return UNLIMITED_DECISION;
    }
    const limit = Math.floor(limitPerSecond);
    let at = this.now();
    if (points > limit) {
      const state = this.limits.get(`${appId}#${kind}`);
      const known = state?.window === windowOf(at) ? remainingIn(state, limit) : limit;
      return { ...this.decide(false, limit, known, at, false), fitsAnyWindow: false };
    }

    const state = this.stateFor(`${appId}#${kind}`, windowOf(at));
    state.requested += points;
    let waited = false;
    try {
      for (;;) {
        const window = windowOf(at);
        roll(state, window);
        if (state.tokens >= points) {
          state.tokens -= points;
          state.admitted += points;
          return this.decide(true, limit, remainingIn(state, limit), at, waited);
        }
        const needed = points - state.tokens;
        if (limit - state.claimedInWindow < needed) {
          return this.decide(false, limit, remainingIn(state, limit), at, waited);
        }
        if (state.degraded && (at < state.retryAt || state.lease !== undefined)) {
          return this.decideLocally(state, points, limit, at, waited);
        }
        if (!waited) {
          state.waiting += points;
          waited = true;
        }
        state.lease ??= this.startLease(state, { appId, kind, window }, at, needed, limit);
        await state.lease;
        at = this.now();
      }
    } finally {
      if (waited) state.waiting -= points;
    }
  }

  /**
   * The fallback limiter: this container admits its share of the window (`fallbackAllowance`), counting
   * the containers its leases saw. The whole limit each would multiply the app's rate by its containers for
   * as long as an outage lasts; refusing everything would stop publishing at every blip.
   */
  private decideLocally(
    state: LimitState,
    points: number,
    limit: number,
    at: number,
    waited: boolean,
  ): RateLimitDecision {
    this.counters.fallbacks++;
    const allowance = fallbackAllowance({
      limit,
      containers: containersSeen(state.seen),
      granted: state.granted,
      claimedInWindow: state.claimedInWindow,
    });
    const allowed = state.admitted + points <= allowance;
    if (allowed) {
      state.admitted += points;
      state.unclaimed += points;
    }
    return this.decide(allowed, limit, allowance - state.admitted, at, waited);
  }

  private decide(
    allowed: boolean,
    limit: number,
    remaining: number,
    at: number,
    waited: boolean,
  ): RateLimitDecision {
    this.count(allowed, waited);
    return {
      allowed,
      limit,
      remaining: Math.min(limit, Math.max(0, remaining)),
      resetSeconds: secondsLeftInWindow(at),
      fitsAnyWindow: true,
    };
  }

  private count(allowed: boolean, waited: boolean): void {
    if (allowed) this.counters.allowed++;
    else this.counters.refused++;
    if (!waited) this.counters.localDecisions++;
  }

  private stateFor(key: string, window: number): LimitState {
    const state = this.limits.get(key);
    if (state === undefined) {
      if (this.limits.size >= this.settings.maxTrackedKeys) {
        this.limits.delete(this.limits.keys().next().value!);
      }
      const fresh = newLimitState(window);
      this.limits.set(key, fresh);
      return fresh;
    }
    if (state.window !== window) {
      roll(state, window);
      // Re-inserted once per window (not per request), so the map's first key is the longest idle one.
      this.limits.delete(key);
      this.limits.set(key, state);
    }
    return state;
  }

  private startLease(
    state: LimitState,
    item: WindowItem,
    at: number,
    needed: number,
    limit: number,
  ): Promise<void> {
    const tokens = leaseSize({
      needed,
      waiting: state.waiting - state.tokens,
      unleased: limit - state.claimedInWindow,
      limit,
      expectedDemand: state.demandRate * secondsLeftInWindow(at),
      previousLease: state.previousLease,
    });
    return this.lease(state, item, tokens, state.unclaimed, limit).finally(() => {
      state.lease = undefined;
    });
  }

  /**
   * Claims `tokens` for this container plus the `unclaimed` points its fallback limiter admitted in the
   * window, so that after a recovery the shared limit still counts them (as far as the budget allows).
   */
  private async lease(
    state: LimitState,
    item: WindowItem,
    tokens: number,
    unclaimed: number,
    limit: number,
  ): Promise<void> {
    this.counters.dynamodbWrites++;
    try {
      const outcome = await leaseTokens(this.client, this.tableName, {
        item,
        tokens: tokens + unclaimed,
        // 0 until a lease of this window is answered: rolling resets it, and a lease is sent in its own window.
        firstInWindow: state.previousLease === 0,
        limit,
        expiresAt: item.window + this.settings.windowTtlSeconds,
        timeoutMs: this.settings.leaseTimeoutMs,
      });
      if (state.degraded) {
        state.degraded = false;
        this.outageLog.recovered(item.appId, item.kind);
      }
      if (outcome.granted > 0) this.counters.leases++;
      else this.counters.leaseFailures++;
      state.seen = seeClaimers(state.seen, item.window, outcome.claimers);
      // Tokens of a window that has ended stay unspent: spending them in the next window could exceed its limit.
      if (state.window !== item.window) return;
      state.claimedInWindow = Math.max(state.claimedInWindow, outcome.claimedInWindow);
      const claimedForFallback = Math.min(outcome.granted, unclaimed);
      state.unclaimed -= claimedForFallback;
      state.tokens += outcome.granted - claimedForFallback;
      state.granted += outcome.granted;
      state.previousLease = tokens;
    } catch (error) {
      this.counters.dynamodbErrors++;
      const at = this.now();
      state.degraded = true;
      state.retryAt = at + this.settings.fallbackRetryMs;
      this.outageLog.failed(at, item.appId, item.kind, error);
    }
  }
}

function newLimitState(window: number): LimitState {
  return {
    window,
    tokens: 0,
    granted: 0,
    claimedInWindow: 0,
    previousLease: 0,
    requested: 0,
    admitted: 0,
    unclaimed: 0,
    demandRate: 0,
    seen: NO_CONTAINERS_SEEN,
    waiting: 0,
    lease: undefined,
    degraded: false,
    retryAt: 0,
  };
}

/** Starts a new window. A clock stepping back also starts one, but teaches nothing about demand. */
function roll(state: LimitState, window: number): void {
  if (state.window === window) return;
  if (window > state.window) {
    state.demandRate = smoothDemand(state.demandRate, state.requested, window - state.window);
  }
  state.window = window;
  state.tokens = 0;
  state.granted = 0;
  state.claimedInWindow = 0;
  state.previousLease = 0;
  state.requested = 0;
  state.admitted = 0;
  state.unclaimed = 0;
}

/** Tokens in hand plus those no container has leased: other containers' unspent tokens are unknown here. */
function remainingIn(state: LimitState, limit: number): number {
  return state.tokens + Math.max(0, limit - state.claimedInWindow);
}
