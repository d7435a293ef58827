import middy from '@middy/core';
import { SWEEP_STOP_RESERVE_MS, scheduledAtOf } from '../src/cleanup/sweep-schedule.js';
import { sweepSlot } from '../src/cleanup/sweeper.js';
import { createGatewayRuntime } from '../src/gateway/runtime.js';
import { webhookInvocations } from '../src/gateway/webhook-runtime.js';
import { DEFAULT_SERVICE_NAME, lambdaContextLogging } from '../src/observability/logger.js';
import { CounterMetrics } from '../src/observability/metrics.js';

const runtime = createGatewayRuntime('pusher-connection-sweeper');
const context = runtime.configuredContext('the connection sweeper');
const withWebhooks = webhookInvocations(runtime);
const metrics = new CounterMetrics(DEFAULT_SERVICE_NAME);
const totals = { GhostConnectionsCleaned: 0, SweepDeferred: 0 };

/** Scheduled (EventBridge, every `CONNECTION_SWEEP_PERIOD_SECONDS`): finds connections whose `$disconnect` was lost. */
export const handler = middy<unknown, void>()
  .use(lambdaContextLogging(runtime.logger))
  .handler(async (event, lambda) => {
    const now = Date.now();
    const stopAtMs = now + lambda.getRemainingTimeInMillis() - SWEEP_STOP_RESERVE_MS;
    const report = await withWebhooks(context, (invocation) =>
      sweepSlot(invocation, runtime.config.sweep, scheduledAtOf(event, now), stopAtMs),
    );
    totals.GhostConnectionsCleaned += report.cleaned;
    totals.SweepDeferred += report.deferred;
    runtime.logger.info('connections swept', { ...report });
    metrics.publish(totals, {}, Date.now());
  });
