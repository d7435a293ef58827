import { describe, expect, it } from 'vitest';
import { OutOfTimeError } from '../../../src/errors/errors.js';
import {
  ANSWER_RESERVE_MS,
  assertTimeToCommit,
  commitPromise,
  messageDeadline,
  OUT_OF_TIME,
  TAKE_BACK_RESERVE_MS,
  withinDeadline,
} from '../../../src/gateway/deadline.js';

describe('messageDeadline', () => {
  it('keeps time to answer after answerBy, and time to take back after commitBy', () => {
    expect(messageDeadline(1_000, 10_000)).toEqual({
      answerBy: 11_000 - ANSWER_RESERVE_MS,
      commitBy: 11_000 - ANSWER_RESERVE_MS - TAKE_BACK_RESERVE_MS,
      promised: false,
    });
  });
});

describe('assertTimeToCommit', () => {
  const deadline = messageDeadline(0, 10_000);

  it('lets a promise be made up to commitBy, and throws OutOfTimeError after', () => {
    expect(() => assertTimeToCommit({ deadline, now: () => deadline.commitBy })).not.toThrow();
    expect(() => assertTimeToCommit({ deadline, now: () => deadline.commitBy + 1 })).toThrow(OutOfTimeError);
  });

  it('records a promise only when one may still be made', () => {
    const fresh = messageDeadline(0, 10_000);
    commitPromise({ deadline: fresh, now: () => fresh.commitBy });
    const late = messageDeadline(0, 10_000);

    expect(fresh.promised).toBe(true);
    expect(() => commitPromise({ deadline: late, now: () => late.commitBy + 1 })).toThrow(OutOfTimeError);
    expect(late.promised).toBe(false);
  });

  it('never throws without a deadline', () => {
    expect(() => assertTimeToCommit({ now: () => Number.MAX_SAFE_INTEGER })).not.toThrow();
  });
});

describe('withinDeadline', () => {
  it('gives the result of work done in time', async () => {
    const late: unknown[] = [];
    const result = await withinDeadline(
      Promise.resolve('done'),
      messageDeadline(Date.now(), 60_000),
      Date.now(),
      (outcome) => late.push(outcome),
    );

    expect(result).toBe('done');
    expect(late).toEqual([]);
  });

  it('gives OUT_OF_TIME at answerBy, then hands the late failure over instead of leaving it unhandled', async () => {
    let fail: (error: Error) => void = () => {};
    const work = new Promise<string>((_resolve, reject) => {
      fail = reject;
    });
    const late: unknown[] = [];
    const now = Date.now();

    const result = await withinDeadline(
      work,
      { answerBy: now, commitBy: now, promised: false },
      now,
      (outcome) => late.push(outcome),
    );
    fail(new Error('late'));
    await new Promise((resolve) => setImmediate(resolve));

    expect(result).toBe(OUT_OF_TIME);
    expect(late).toEqual([{ error: new Error('late') }]);
  });

  it('waits for a deadline past what a timer can count, not firing at once', async () => {
    const result = await withinDeadline(
      new Promise((resolve) => setTimeout(resolve, 20, 'done')),
      { answerBy: Number.MAX_SAFE_INTEGER, commitBy: Number.MAX_SAFE_INTEGER, promised: false },
      Date.now(),
      () => {},
    );

    expect(result).toBe('done');
  });
});
