/**
 * What one container may admit while the state table fails. Pure functions, so the bound can be tested on
 * its own; `rate-limiter.ts` feeds them what the container has read from its leases.
 */

/**
 * The containers one container has seen claim tokens of a limit: the `claimers` counts its answered leases
 * read, for the latest two windows it read any in. Two, because a container that leases first in a window
 * reads only itself; the window before usually shows the others.
 */
export interface ContainersSeen {
  /** The latest window an answered lease read a count for. */
  readonly window: number;
  /** The most claimers read in `window`. */
  readonly inWindow: number;
  /** The most claimers read in the window read before `window`. */
  readonly inWindowBefore: number;
}

export const NO_CONTAINERS_SEEN: ContainersSeen = Object.freeze({
  window: Number.NEGATIVE_INFINITY,
  inWindow: 0,
  inWindowBefore: 0,
});

/**
 * Adds one reading. Answers arrive in window order (one lease in flight per limit per container), so an
 * older window can only come from a clock stepping back, and is ignored.
 */
export function seeClaimers(seen: ContainersSeen, window: number, claimers: number): ContainersSeen {
  if (window === seen.window) return { ...seen, inWindow: Math.max(seen.inWindow, claimers) };
  if (window > seen.window) return { window, inWindow: claimers, inWindowBefore: seen.inWindow };
  return seen;
}

/** At least 1: a container that has read no count (cold-started during an outage) knows only itself. */
export function containersSeen(seen: ContainersSeen): number {
  return Math.max(1, seen.inWindow, seen.inWindowBefore);
}

export interface FallbackBudget {
  /** Points per window. */
  readonly limit: number;
  /** `containersSeen`: at least 1. */
  readonly containers: number;
  /** Tokens DynamoDB granted this container in the window, before it failed. */
  readonly granted: number;
  /** Tokens claimed by all containers in the window, as this container last read it. */
  readonly claimedInWindow: number;
}

/**
 * Points one container may admit in a window, in all, while it decides alone: its grants (its current
 * lease: already counted in the shared limit) or its share of the limit, `⌊limit / containers⌋`, whichever
 * is larger; and never more than its grants plus what it last read as not leased by anyone.
 */
export function fallbackAllowance(budget: FallbackBudget): number {
  const share = Math.floor(budget.limit / budget.containers);
  const unleased = Math.max(0, budget.limit - budget.claimedInWindow);
  return Math.min(Math.max(budget.granted, share), budget.granted + unleased);
}
