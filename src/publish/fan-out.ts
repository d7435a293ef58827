import type { GoneConnection } from '../cleanup/cleanup.js';
import { FanOutPageError } from '../errors/errors.js';
import type { GatewayContext } from '../gateway/context.js';
import {
  FAN_OUT_CONCURRENCY,
  type PostFailures,
  type PostOutcome,
  postToAll,
} from '../gateway/management-api.js';
import { DEFAULT_SERVICE_NAME } from '../observability/logger.js';
import { CounterMetrics } from '../observability/metrics.js';
import { type EncodedFrame, encodedFrame, type Frame } from '../protocol/frames.js';
import { subscriberPage } from '../state/subscribers.js';
import type { CleanupJob, FanOutDispatcher, FanOutFrame, FanOutJob, FanOutLaneJob } from './fan-out-job.js';
import { type LaneRange, laneRanges } from './lanes.js';

/** What one channel's fan-out did. */
export interface Delivery {
  /** Posts made here. */
  readonly recipients: number;
  /** Connections found gone (410) that are the caller's to clean up: none when a worker took them. */
  readonly gone: readonly GoneConnection[];
  /** Jobs handed to the worker (the rest of the channel, cleanups). */
  readonly dispatched: number;
  readonly failures: PostFailures;
}

/**
 * How a channel is split. A channel of at most `inlineLimit` subscribers is posted by the publishing
 * invocation itself (one round of posts in flight). A larger one goes to the fan-out worker as `lanes` jobs,
 * one per fixed range of connection ids (see `lanes.ts`), each reading its range `jobSize` subscribers at a
 * time: nothing of it is posted inline, so that a subscriber's events all go through its lane, in order, and
 * the answer takes as long for 10,000 subscribers as for 10. Without a dispatcher, every page is posted here.
 */
export interface FanOutOptions {
  readonly dispatcher?: FanOutDispatcher;
  readonly inlineLimit: number;
  /** Subscribers per page a lane job reads and posts: one Query page of ids (~40 bytes each). */
  readonly jobSize: number;
  /** The lanes a large channel is split into (`laneRanges`): the most workers posting one event at once. */
  readonly lanes: readonly LaneRange[];
}

// Marked pure so that a bundle that never uses the defaults (the fan-out worker) drops them and `lanes.ts`.
export const FAN_OUT_DEFAULTS: FanOutOptions = /* @__PURE__ */ Object.freeze({
  inlineLimit: FAN_OUT_CONCURRENCY,
  jobSize: 1_000,
  // Ten lanes, each a worker posting ~1,000 a second, reach the account's 10,000 API Gateway requests a
  // second, and fill one SendMessageBatch.
  lanes: /* @__PURE__ */ laneRanges(10),
});

/**
 * How long a publishing invocation posts lanes itself when the worker cannot take them: well inside the
 * route's 10 s timeout. What is left then is logged and counted, not posted.
 */
export const INLINE_FALLBACK_BUDGET_MS = 5_000;

// Post failures and fan-outs cut short, as running totals in EMF lines (see CounterMetrics).
const metrics = new CounterMetrics(DEFAULT_SERVICE_NAME);
const totals = { FanOutPostsThrottled: 0, FanOutPostsTooLarge: 0, FanOutPostsFailed: 0, FanOutCutShort: 0 };

/**
 * Posts `frame` to every live subscriber of `channel` but `excludedConnectionId` (the sender a publish names
 * by `socket_id`). The first page is read with a strongly consistent Query: an event published after a
 * client was told `subscription_succeeded` reaches it. Connections found gone go to the worker for cleanup.
 */
export async function fanOut(
  context: GatewayContext,
  appId: string,
  channel: string,
  frame: FanOutFrame,
  excludedConnectionId: string | undefined,
  options: FanOutOptions = FAN_OUT_DEFAULTS,
): Promise<Delivery> {
  const { dispatcher } = options;
  const startedAt = context.now();
  const encoded = encodedFrame(frame);
  const first = await subscriberPage(context.state, appId, channel, startedAt, {
    limit: options.inlineLimit,
  });
  const tally = new Tally(appId, channel);
  if (first.next === undefined) {
    const recipients = first.connectionIds.filter((id) => id !== excludedConnectionId);
    await postTo(context, recipients, encoded, tally);
  } else {
    const lane = (range: LaneRange): FanOutLaneJob => ({
      kind: 'lane',
      appId,
      channel,
      frame,
      range,
      pageSize: options.jobSize,
      ...(excludedConnectionId === undefined ? {} : { excludedConnectionId }),
    });
    // Without a worker (a library user's own Lambda) the whole channel is one lane, posted here.
    let left = [lane({ from: '' })];
    let stopAtMs = Number.POSITIVE_INFINITY;
    if (dispatcher !== undefined) {
      left = await tryDispatch(context, dispatcher, options.lanes.map(lane));
      tally.dispatched += options.lanes.length - left.length;
      stopAtMs = startedAt + INLINE_FALLBACK_BUDGET_MS;
    }
    for (const job of left) {
      // Each lane posts a page at least once started: none starts past the budget.
      if (context.now() >= stopAtMs) {
        context.logger.error('fan-out cut short', { appId, channel, laneFrom: job.range.from });
        tally.cutShort = true;
        continue;
      }
      const cutShortAfter = await postLane(context, job, encoded, stopAtMs, tally);
      if (cutShortAfter !== undefined) {
        context.logger.error('fan-out cut short', { appId, channel, after: cutShortAfter });
        tally.cutShort = true;
      }
    }
  }
  await handGoneToWorker(context, dispatcher, tally);
  return tally.counted(context.now());
}

/**
 * Posts `frame` to named recipients of `channel` (a user's connections, say), as a fan-out's inline page:
 * failures counted, connections found gone handed to the worker when there is one, else returned.
 */
export async function deliver(
  context: GatewayContext,
  appId: string,
  channel: string,
  recipients: readonly string[],
  frame: Frame,
  options: Pick<FanOutOptions, 'dispatcher'> = FAN_OUT_DEFAULTS,
): Promise<Delivery> {
  const tally = new Tally(appId, channel);
  await postTo(context, recipients, encodedFrame(frame), tally);
  await handGoneToWorker(context, options.dispatcher, tally);
  return tally.counted(context.now());
}

async function postTo(
  context: GatewayContext,
  recipients: readonly string[],
  encoded: EncodedFrame,
  tally: Tally,
): Promise<void> {
  tally.add(recipients.length, await postToAll(context.connections, recipients, encoded, context.logger));
}

/** Gone connections go to the worker, off the response path; if it cannot take them, to the sweeper. */
async function handGoneToWorker(
  context: GatewayContext,
  dispatcher: FanOutDispatcher | undefined,
  tally: Tally,
): Promise<void> {
  if (dispatcher === undefined || tally.gone.length === 0) return;
  const { appId, channel } = tally;
  const connectionIds = tally.gone.map((gone) => gone.connectionId);
  const cleanup: CleanupJob = { kind: 'cleanup', appId, channel, connectionIds };
  if ((await tryDispatch(context, dispatcher, [cleanup])).length === 0) {
    tally.dispatched++;
  } else {
    context.logger.warn('gone connections left to the sweeper', {
      channel,
      connections: connectionIds.length,
    });
  }
  tally.gone = [];
}

/**
 * Posts a lane job's subscribers page by page (each page read while the one before is posted), stopping
 * at `stopAtMs` (checked from the second page on). Returns the delivery and, if it was cut short, the
 * connection id it posted up to (`cutShortAfter`, where a replay resumes).
 */
export async function deliverLane(
  context: GatewayContext,
  job: FanOutLaneJob,
  encoded: EncodedFrame,
  stopAtMs: number,
): Promise<Delivery & { readonly cutShortAfter?: string }> {
  const tally = new Tally(job.appId, job.channel);
  const cutShortAfter = await postLane(context, job, encoded, stopAtMs, tally);
  if (cutShortAfter !== undefined) tally.cutShort = true;
  return { ...tally.counted(context.now()), ...(cutShortAfter === undefined ? {} : { cutShortAfter }) };
}

/** `deliverLane`'s pages, added to `tally`; returns where it was cut short, if it was. */
async function postLane(
  context: GatewayContext,
  job: FanOutLaneJob,
  encoded: EncodedFrame,
  stopAtMs: number,
  tally: Tally,
): Promise<string | undefined> {
  /** The page after `after`: one that cannot be read says the lane got that far (where a replay resumes). */
  const read = (after: string | undefined) => {
    const page = subscriberPage(context.state, job.appId, job.channel, context.now(), {
      limit: job.pageSize,
      range: job.range,
      ...(after === undefined ? {} : { after }),
    }).catch((error: unknown) => {
      throw new FanOutPageError(job.channel, after, error);
    });
    // Read ahead while a page is posted: awaited (and its failure seen) once that page is done.
    page.catch(() => {});
    return page;
  };
  let after = job.after;
  let page = await read(after);
  for (let pages = 0; ; pages++) {
    // Every job posts one page at least, so that a replay always makes progress.
    if (pages > 0 && context.now() >= stopAtMs) return after!;
    const next = page.next === undefined ? undefined : read(page.next);
    const recipients = page.connectionIds.filter((id) => id !== job.excludedConnectionId);
    tally.add(
      recipients.length,
      await postToAll(context.connections, recipients, encoded, context.logger, { stopAtMs }),
    );
    if (next === undefined) return undefined;
    after = page.next;
    page = await next;
  }
}

/** The jobs `dispatcher` did not take, each logged with why. */
async function tryDispatch<Job extends FanOutJob>(
  context: GatewayContext,
  dispatcher: FanOutDispatcher,
  jobs: readonly Job[],
): Promise<Job[]> {
  const left = await dispatcher.dispatch(jobs);
  for (const { job, reason } of left) {
    context.logger.warn('fan-out job not dispatched', { kind: job.kind, channel: job.channel, reason });
  }
  // The dispatcher answers with the jobs it was given.
  return left.map(({ job }) => job as Job);
}

/** A delivery of nothing: what a job that posts nothing reports. */
export const NO_DELIVERY: Delivery = Object.freeze({
  recipients: 0,
  gone: [],
  dispatched: 0,
  failures: { throttled: 0, tooLarge: 0, other: 0 },
});

/** What one channel's fan-out has done so far, counted into the metrics once it is done. */
class Tally {
  recipients = 0;
  gone: GoneConnection[] = [];
  dispatched = 0;
  cutShort = false;
  readonly failures: PostFailures = { throttled: 0, tooLarge: 0, other: 0 };

  constructor(
    readonly appId: string,
    readonly channel: string,
  ) {}

  add(recipients: number, posted: PostOutcome): void {
    this.recipients += recipients;
    const subscription = { appId: this.appId, channel: this.channel };
    for (const connectionId of posted.gone) this.gone.push({ connectionId, subscription });
    this.failures.throttled += posted.failures.throttled;
    this.failures.tooLarge += posted.failures.tooLarge;
    this.failures.other += posted.failures.other;
  }

  counted(now: number): Delivery {
    const { throttled, tooLarge, other } = this.failures;
    if (throttled + tooLarge + other > 0 || this.cutShort) {
      totals.FanOutPostsThrottled += throttled;
      totals.FanOutPostsTooLarge += tooLarge;
      totals.FanOutPostsFailed += other;
      if (this.cutShort) totals.FanOutCutShort++;
      metrics.publish(totals, {}, now);
    }
    const { recipients, gone, dispatched, failures } = this;
    return { recipients, gone, dispatched, failures };
  }
}
