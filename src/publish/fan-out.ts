import type { GoneConnection } from '../cleanup/cleanup.js';
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
import type { FanOutDispatcher, FanOutFrame, FanOutJob, FanOutRangeJob } from './fan-out-job.js';

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
 * How a channel is split. The publishing invocation reads and posts the first `inlineLimit` subscribers (one
 * round of posts in flight, so the answer takes as long for 10,000 subscribers as for 10) and hands the rest
 * of the channel to the fan-out worker as a key range; each worker job reads `jobSize` subscribers, hands the
 * range after them to the next job, then posts. Without a dispatcher, every page is posted here.
 */
export interface FanOutOptions {
  readonly dispatcher?: FanOutDispatcher;
  readonly inlineLimit: number;
  /** Subscribers per worker job: one Query page of ids (~40 bytes each) and as many posts. */
  readonly jobSize: number;
}

export const FAN_OUT_DEFAULTS: FanOutOptions = Object.freeze({
  inlineLimit: FAN_OUT_CONCURRENCY,
  jobSize: 1_000,
});

/**
 * How long a publishing invocation posts the rest of a channel itself when the worker cannot be invoked:
 * well inside the route's 10 s timeout. What is left then is logged and counted, not posted.
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
  const recipients = first.connectionIds.filter((id) => id !== excludedConnectionId);
  const rest: FanOutRangeJob | undefined =
    first.next === undefined
      ? undefined
      : {
          kind: 'range',
          appId,
          channel,
          frame,
          after: first.next,
          pageSize: options.jobSize,
          ...(excludedConnectionId === undefined ? {} : { excludedConnectionId }),
        };
  // The rest is handed over while the first page is posted: both are on the answer's path.
  const [posted, handedOff] = await Promise.all([
    postToAll(context.connections, recipients, encoded, context.logger),
    rest !== undefined && dispatcher !== undefined ? tryDispatch(context, dispatcher, rest) : false,
  ]);
  const tally = new Tally(appId, channel);
  tally.add(recipients.length, posted, handedOff);
  if (rest !== undefined && !handedOff) {
    // No worker (a library user's own Lambda), or it cannot be invoked: the rest is posted here, within a
    // budget when a worker was meant to take it.
    const stopAtMs =
      dispatcher === undefined ? Number.POSITIVE_INFINITY : startedAt + INLINE_FALLBACK_BUDGET_MS;
    await postRange(context, rest, encoded, { stopAtMs }, tally);
  }
  if (dispatcher !== undefined && tally.gone.length > 0) {
    // Gone connections go to the worker, off the response path; if it cannot be invoked, to the sweeper.
    const connectionIds = tally.gone.map((gone) => gone.connectionId);
    if (await tryDispatch(context, dispatcher, { kind: 'cleanup', appId, channel, connectionIds })) {
      tally.dispatched++;
    } else {
      context.logger.warn('gone connections left to the sweeper', {
        channel,
        connections: connectionIds.length,
      });
    }
    tally.gone = [];
  }
  return tally.counted(context.now());
}

/** Posts `frame` to named recipients of `channel`; gone ones are returned for cleanup. */
export async function deliver(
  context: GatewayContext,
  appId: string,
  channel: string,
  recipients: readonly string[],
  frame: Frame | EncodedFrame,
): Promise<Delivery> {
  const tally = new Tally(appId, channel);
  tally.add(
    recipients.length,
    await postToAll(context.connections, recipients, frame, context.logger),
    false,
  );
  return tally.counted(context.now());
}

/**
 * Posts a range job's subscribers page by page from `job.after`: with a dispatcher, each page hands the range
 * after it to a new job before its posts go out, so pages are posted side by side; without one, the pages
 * follow each other here. Past `stopAtMs` (checked from the second page on) the range after the last page
 * posted is handed off, or else reported cut short (`cutShortAfter`).
 */
export async function deliverRange(
  context: GatewayContext,
  job: FanOutRangeJob,
  encoded: EncodedFrame,
  options: RangeOptions,
): Promise<Delivery & { readonly cutShortAfter?: string }> {
  const tally = new Tally(job.appId, job.channel);
  const cutShortAfter = await postRange(context, job, encoded, options, tally);
  return { ...tally.counted(context.now()), ...(cutShortAfter === undefined ? {} : { cutShortAfter }) };
}

interface RangeOptions {
  readonly dispatcher?: FanOutDispatcher;
  readonly stopAtMs: number;
}

/** `deliverRange`'s pages, added to `tally`; returns where it was cut short, if it was. */
async function postRange(
  context: GatewayContext,
  job: FanOutRangeJob,
  encoded: EncodedFrame,
  options: RangeOptions,
  tally: Tally,
): Promise<string | undefined> {
  const { dispatcher } = options;
  const handOn = async (after: string) =>
    dispatcher !== undefined && (await tryDispatch(context, dispatcher, { ...job, after }));
  let after: string | undefined = job.after;
  for (let pages = 0; after !== undefined; pages++) {
    // Every job posts one page at least: one handed on without progress would be handed on forever.
    if (pages > 0 && context.now() >= options.stopAtMs) {
      if (await handOn(after)) {
        tally.dispatched++;
        return undefined;
      }
      context.logger.error('fan-out cut short', { appId: job.appId, channel: job.channel, after });
      tally.cutShort = true;
      return after;
    }
    const page = await subscriberPage(context.state, job.appId, job.channel, context.now(), {
      limit: job.pageSize,
      after,
    });
    const handedOff = page.next !== undefined && (await handOn(page.next));
    const recipients = page.connectionIds.filter((id) => id !== job.excludedConnectionId);
    const posted = await postToAll(context.connections, recipients, encoded, context.logger, options);
    tally.add(recipients.length, posted, handedOff);
    after = handedOff ? undefined : page.next;
  }
  return undefined;
}

async function tryDispatch(
  context: GatewayContext,
  dispatcher: FanOutDispatcher,
  job: FanOutJob,
): Promise<boolean> {
  try {
    await dispatcher.dispatch(job);
    return true;
  } catch (error) {
    context.logger.warn('fan-out job not dispatched', {
      kind: job.kind,
      channel: job.channel,
      error: String(error),
    });
    return false;
  }
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
    private readonly appId: string,
    private readonly channel: string,
  ) {}

  add(recipients: number, posted: PostOutcome, handedOff: boolean): void {
    this.recipients += recipients;
    const subscription = { appId: this.appId, channel: this.channel };
    for (const connectionId of posted.gone) this.gone.push({ connectionId, subscription });
    if (handedOff) this.dispatched++;
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
