/**
 * How many tokens a container leases at once. Pure functions, so the sizing rules can be tested and
 * tuned on their own; `rate-limiter.ts` feeds them what the container has observed.
 */

export interface LeaseSizing {
  /** Tokens the request that triggers the lease lacks (its points minus the tokens in hand); at least 1. */
  readonly needed: number;
  /** Points of every request in this container now waiting for tokens, minus the tokens in hand. */
  readonly waiting: number;
  /** Tokens of the window no container has leased yet, as last seen; never below `needed`. */
  readonly unleased: number;
  readonly limit: number;
  /** Points this container expects to be asked for in the rest of the window. */
  readonly expectedDemand: number;
  /** This container's previous lease in the same window; 0 when none. */
  readonly previousLease: number;
}

/** No single lease takes more than this share of what is left, so several busy containers can all get some. */
export const MAX_SHARE_OF_UNLEASED = 0.5;
/** ...unless what is left is small: then a busy container may take this share of the limit, ending the
 * halving tail (50, 25, 13, 7...) that would otherwise cost one write per few tokens at the window's end. */
export const MIN_SHARE_OF_LIMIT = 0.05;

/**
 * The lease covers what the container expects to need for the rest of the window (its smoothed demand,
 * the requests already waiting, or twice its previous lease when demand outgrows the estimate), capped
 * by a share of the unleased budget, never below what the triggering request needs and never above
 * what is left. Expected demand bounds the tokens a quiet container strands at the window's end;
 * doubling reaches a burst's size in log2 leases; the share cap keeps one container from draining a
 * budget its estimate overstates.
 */
export function leaseSize(sizing: LeaseSizing): number {
  const wanted = Math.max(Math.ceil(sizing.expectedDemand), sizing.waiting, 2 * sizing.previousLease);
  const share = Math.max(
    Math.ceil(sizing.unleased * MAX_SHARE_OF_UNLEASED),
    Math.ceil(sizing.limit * MIN_SHARE_OF_LIMIT),
  );
  return Math.min(sizing.unleased, Math.max(sizing.needed, Math.min(wanted, share)));
}

/** Weight of the window just completed in the demand estimate; the rest is the previous estimate's. */
const LATEST_WINDOW_WEIGHT = 0.5;

/**
 * Exponentially smoothed demand in points per second, updated when a window ends: `windowsElapsed`
 * counts the completed window (`lastWindowDemand` points) plus any idle windows that followed it.
 */
export function smoothDemand(previousRate: number, lastWindowDemand: number, windowsElapsed: number): number {
  const afterLast = LATEST_WINDOW_WEIGHT * lastWindowDemand + (1 - LATEST_WINDOW_WEIGHT) * previousRate;
  return afterLast * (1 - LATEST_WINDOW_WEIGHT) ** Math.max(0, windowsElapsed - 1);
}
