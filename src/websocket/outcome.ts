import type { GoneConnection } from '../cleanup/cleanup.js';
import type { Frame } from '../protocol/frames.js';

/**
 * What a client message leads to: the frame that answers the sender (sent as the route response, after the
 * Lambda returns), connections found gone on the way (for cleanup), and whether the sender's connection is
 * unknown to the state table (not admitted, or already cleaned up), so it must be closed.
 */
export interface Outcome {
  readonly reply: Frame | undefined;
  readonly gone: readonly GoneConnection[];
  readonly unknownConnection?: true;
}

export const replyWith = (frame: Frame): Outcome => ({ reply: frame, gone: [] });

export const NO_REPLY: Outcome = Object.freeze({ reply: undefined, gone: [] });

export const UNKNOWN_CONNECTION: Outcome = Object.freeze({
  reply: undefined,
  gone: [],
  unknownConnection: true,
});
