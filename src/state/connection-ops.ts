import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/**
 * How fast one connection may subscribe and sign in (`CONNECTION_OPS_PER_SECOND`, `CONNECTION_OPS_BURST`).
 * Unsubscribes use the same credit but are never refused: what leaves state is never held back.
 */
export interface OpsRate {
  readonly perSecond: number;
  /** Operations a quiet connection may make at once: a reconnecting client resubscribes all its channels. */
  readonly burst: number;
}

/** No limit: nothing is added to the writes. */
export const UNLIMITED_OPS: OpsRate = {
  perSecond: Number.POSITIVE_INFINITY,
  burst: Number.POSITIVE_INFINITY,
};

/**
 * The rate as a cell-rate (GCRA) rule on one attribute of the connection record, `opsAt`: the time at which
 * the connection's credit would be whole again. An operation is allowed while `opsAt` is at most
 * `now + tolerance` and moves it `interval` later, in the same conditional write that records the operation,
 * so the check costs no call of its own.
 *
 * DynamoDB cannot write `max(opsAt, now)`, so the write also requires `opsAt >= now - slack`: a connection
 * quiet for longer (its `opsAt` far behind) fails it once and is reset with `opsReset`. The slack lets a quiet
 * connection make at most twice the burst at once, never the credit of its whole quiet spell.
 */
interface OpsTimes {
  readonly intervalMs: number;
  readonly toleranceMs: number;
  readonly slackMs: number;
}

function timesOf(rate: OpsRate): OpsTimes {
  // Whole milliseconds, as stored; the tolerance and slack follow from the stored interval.
  const intervalMs = Math.ceil(1_000 / rate.perSecond);
  return { intervalMs, toleranceMs: (rate.burst - 1) * intervalMs, slackMs: rate.burst * intervalMs };
}

export function isLimited(rate: OpsRate): boolean {
  return Number.isFinite(rate.perSecond) && Number.isFinite(rate.burst);
}

/** Parts of an UpdateItem that charge one operation; merged into the write that records it. */
export interface OpsCharge {
  /** Empty when unlimited or uncharged. */
  readonly condition: string;
  /** A `SET` action, without the keyword; empty when unlimited. */
  readonly set: string;
  readonly names: Record<string, string>;
  readonly values: Record<string, AttributeValue>;
}

/** Charges nothing: an unlimited rate, or a write that is not the client's operation. */
export const UNCHARGED: OpsCharge = { condition: '', set: '', names: {}, values: {} };
const OPS_AT = { '#opsAt': 'opsAt' };
const ms = (value: number) => ({ N: String(Math.ceil(value)) });

/** Charges one operation if the credit allows it. */
export function opsCharge(rate: OpsRate, nowMs: number): OpsCharge {
  if (!isLimited(rate)) return UNCHARGED;
  const { intervalMs, toleranceMs, slackMs } = timesOf(rate);
  return {
    condition: '(attribute_not_exists(#opsAt) OR #opsAt BETWEEN :opsFloor AND :opsCeiling)',
    set: '#opsAt = if_not_exists(#opsAt, :opsNow) + :opsInterval',
    names: OPS_AT,
    values: {
      ':opsFloor': ms(nowMs - slackMs),
      ':opsCeiling': { N: String(Math.floor(nowMs + toleranceMs)) },
      ':opsNow': ms(nowMs),
      ':opsInterval': ms(intervalMs),
    },
  };
}

/** Charges one operation that is never refused (an unsubscribe): it only uses credit. */
export function opsUse(rate: OpsRate, nowMs: number): OpsCharge {
  if (!isLimited(rate)) return UNCHARGED;
  return {
    condition: '',
    set: '#opsAt = if_not_exists(#opsAt, :opsNow) + :opsInterval',
    names: OPS_AT,
    values: { ':opsNow': ms(nowMs), ':opsInterval': ms(timesOf(rate).intervalMs) },
  };
}

/** After `opsCharge` failed on a quiet connection: starts its credit again from `nowMs`, if still `observedMs`. */
export function opsReset(rate: OpsRate, nowMs: number, observedMs: number): OpsCharge {
  return {
    condition: '#opsAt = :opsObserved',
    set: '#opsAt = :opsNext',
    names: OPS_AT,
    values: { ':opsObserved': { N: String(observedMs) }, ':opsNext': ms(nowMs + timesOf(rate).intervalMs) },
  };
}

/**
 * Why `opsCharge` failed, from the record read after it (`opsAt`): the credit is used up, the connection
 * was quiet long enough to need `opsReset`, or neither (it changed in between: try again).
 */
export function opsVerdict(
  rate: OpsRate,
  opsAtMs: number | undefined,
  nowMs: number,
): 'too-fast' | 'reset' | 'allowed' {
  if (!isLimited(rate) || opsAtMs === undefined) return 'allowed';
  const { toleranceMs, slackMs } = timesOf(rate);
  if (opsAtMs > Math.floor(nowMs + toleranceMs)) return 'too-fast';
  if (opsAtMs < Math.ceil(nowMs - slackMs)) return 'reset';
  return 'allowed';
}
