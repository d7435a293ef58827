import middy from '@middy/core';
import { SWEEP_STOP_RESERVE_MS, scheduledAtOf } from '../src/cleanup/sweep-schedule.js';
import { KnownApps, sweepSlot } from '../src/cleanup/sweeper.js';
import { loadSweepPlan } from '../src/gateway/config.js';
import { createGatewayRuntime } from '../src/gateway/runtime.js';
import { webhookInvocations } from '../src/gateway/webhook-runtime.js';
import { DEFAULT_SERVICE_NAME, lambdaContextLogging } from '../src/observability/logger.js';
import { CounterMetrics } from '../src/observability/metrics.js';

const runtime = createGatewayRuntime('pusher-connection-sweeper');
const context = runtime.configuredContext('the connection sweeper');
const withWebhooks = webhookInvocations(runtime);
const metrics = new CounterMetrics(DEFAULT_SERVICE_NAME);
const sweep = loadSweepPlan();
// Two rotations: an app whose connections all left is forgotten once its channels had their turns.
const knownApps = new KnownApps(2 * sweep.slots * sweep.periodMs);
const totals = { GhostConnectionsCleaned: 0, SweepDeferred: 0, ChannelCountsCorrected: 0 };

/** Scheduled (EventBridge, every `CONNECTION_SWEEP_PERIOD_SECONDS`): finds connections whose `$disconnect` was lost. */
export const handler = middy<unknown, void>()
  .use(lambdaContextLogging(runtime.logger))
  .handler(async (event, lambda) => {
    const now = Date.now();
    const stopAtMs = now + lambda.getRemainingTimeInMillis() - SWEEP_STOP_RESERVE_MS;
    const report = await withWebhooks(context, (invocation) =>
      sweepSlot(invocation, sweep, scheduledAtOf(event, now), stopAtMs, knownApps),
    );
    const { recounts, ...counts } = report;
    totals.GhostConnectionsCleaned += report.cleaned;
    totals.SweepDeferred += report.deferred;
    totals.ChannelCountsCorrected += recounts.length;
    for (const recount of recounts) runtime.logger.info('channel counts corrected', { ...recount });
    runtime.logger.info('connections swept', { ...counts, recounted: recounts.length });
    metrics.publish(totals, {}, Date.now());
  });
