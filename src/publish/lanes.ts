import { createHash } from 'node:crypto';
import type { ConnectionRange } from '../state/subscribers.js';

// A large channel's fan-out is split into lanes: fixed ranges of connection ids, the same for every event, so
// that one lane's jobs can run one after another (a FIFO message group) while the lanes run side by side. Two
// events from one publisher then reach each subscriber in the order they were published, however many workers
// the channel is split across: a subscriber is in one lane, and its lane posts the first event before the
// second. Ranges that depended on where a page ended would move between events as subscribers come and go.

/**
 * The characters API Gateway connection ids begin with (base64, whose `=` only pads the end), in the order
 * DynamoDB sorts them (bytes).
 * Lanes split this alphabet by an id's first character; an id of any other alphabet still falls in exactly
 * one lane (the ranges cover every string), only less evenly.
 */
const CONNECTION_ID_ALPHABET = '+/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** The most lanes a channel can be split into: one per first character. */
export const MAX_LANES = CONNECTION_ID_ALPHABET.length;

/** A lane: connection ids from `from` (inclusive; '' is the start) to `to` (exclusive; none is the end). */
export type LaneRange = ConnectionRange;

/** `count` lanes covering every connection id, each a run of first characters, in key order. */
export function laneRanges(count: number): readonly LaneRange[] {
  if (!Number.isInteger(count) || count < 1 || count > MAX_LANES) {
    throw new RangeError(`lanes must be an integer from 1 to ${MAX_LANES}, not ${count}`);
  }
  const start = (lane: number) =>
    lane === 0 ? '' : CONNECTION_ID_ALPHABET[Math.floor((lane * MAX_LANES) / count)]!;
  return Array.from({ length: count }, (_, lane) =>
    lane === count - 1 ? { from: start(lane) } : { from: start(lane), to: start(lane + 1) },
  );
}

/** Whether `connectionId` is in `range`. */
export function inLane(range: LaneRange, connectionId: string): boolean {
  return connectionId >= range.from && (range.to === undefined || connectionId < range.to);
}

/**
 * The FIFO message group of one lane of a channel: at most 128 characters whatever the app id and channel
 * name, so both are hashed; the lane's start keeps it readable in a failure message.
 */
export function laneGroupId(appId: string, channel: string, range: LaneRange): string {
  const subject = createHash('sha256').update(appId).update('\0').update(channel).digest('base64url');
  return `${subject}.${range.from === '' ? '^' : range.from}`;
}
