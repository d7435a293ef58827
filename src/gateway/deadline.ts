import { OutOfTimeError } from '../errors/errors.js';

/**
 * When a `$default` invocation must stop promising and must answer, in epoch ms, from the Lambda's remaining
 * time. A Lambda that runs into its timeout is answered by API Gateway itself, with a frame without `event`
 * on which pusher-js throws; so the handler answers first, in Pusher's words.
 */
export interface MessageDeadline {
  /** After this, no subscription may be told it succeeded: the time left takes back what was written. */
  readonly commitBy: number;
  /** By this, the handler answers, whatever is still running. */
  readonly answerBy: number;
  /** Set once the client was told something it must not be told the opposite of (a roster went out). */
  promised: boolean;
}

/**
 * Time kept after `commitBy` to take a subscribe back: a few writes, each bounded by the DynamoDB client's
 * timeouts (two tries of a second each).
 */
export const TAKE_BACK_RESERVE_MS = 3_000;
/**
 * Time kept after `answerBy`: the webhook enqueue that follows the work (at most about 3.3 s, see
 * `webhookInvocations`), then the return and API Gateway sending the answer.
 */
export const ANSWER_RESERVE_MS = 4_000;

export function messageDeadline(nowMs: number, remainingMs: number): MessageDeadline {
  const answerBy = nowMs + remainingMs - ANSWER_RESERVE_MS;
  return { answerBy, commitBy: answerBy - TAKE_BACK_RESERVE_MS, promised: false };
}

/** Throws `OutOfTimeError` once `commitBy` has passed: called just before a subscription is promised. */
export function assertTimeToCommit(context: {
  readonly deadline?: MessageDeadline;
  readonly now: () => number;
}): void {
  if (context.deadline !== undefined && context.now() > context.deadline.commitBy) {
    throw new OutOfTimeError('The invocation ran out of time before the subscription could be confirmed');
  }
}

/** setTimeout fires at once past 2^31 - 1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Checks the deadline (see `assertTimeToCommit`) and records that the promise is being made: past
 * `answerBy`, the handler then answers nothing rather than an error that would contradict it.
 */
export function commitPromise(context: {
  readonly deadline?: MessageDeadline;
  readonly now: () => number;
}): void {
  assertTimeToCommit(context);
  if (context.deadline !== undefined) context.deadline.promised = true;
}

/** What `withinDeadline` resolves with when the work was not done by `answerBy`. */
export const OUT_OF_TIME = Symbol('out of time');

/**
 * The work's result, or `OUT_OF_TIME` once `answerBy` passes. Late work goes on (in Lambda, if the container
 * is used again) and whatever it ends in is handed to `late`, never left as an unhandled rejection.
 */
export async function withinDeadline<Result>(
  work: Promise<Result>,
  deadline: MessageDeadline,
  now: number,
  late: (outcome: { readonly result?: Result; readonly error?: unknown }) => void,
): Promise<Result | typeof OUT_OF_TIME> {
  let timer: NodeJS.Timeout | undefined;
  const outOfTime = new Promise<typeof OUT_OF_TIME>((resolve) => {
    timer = setTimeout(resolve, Math.min(MAX_TIMER_MS, Math.max(0, deadline.answerBy - now)), OUT_OF_TIME);
  });
  try {
    const settled = await Promise.race([work, outOfTime]);
    if (settled === OUT_OF_TIME)
      work.then(
        (result) => late({ result }),
        (error: unknown) => late({ error }),
      );
    return settled;
  } finally {
    clearTimeout(timer);
  }
}
