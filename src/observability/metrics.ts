import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** CloudWatch namespace of this project's metrics, unless `POWERTOOLS_METRICS_NAMESPACE` names another. */
export const METRICS_NAMESPACE = 'PusherLambdaAuthorizer';

export function createMetrics(serviceName: string, env: NodeJS.ProcessEnv = process.env): Metrics {
  return new Metrics({
    namespace: env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
    serviceName: env.POWERTOOLS_SERVICE_NAME ?? serviceName,
  });
}

/**
 * Publishes monotonically growing counters (a resolver's or a limiter's) as CloudWatch EMF metrics: each
 * publish emits the growth since the previous one as a Count, so dashboards can sum across containers.
 */
export class CounterMetrics {
  private readonly previous = new Map<string, number>();

  constructor(private readonly metrics: Metrics) {}

  publish(counters: Readonly<Record<string, number>>): void {
    for (const [name, value] of Object.entries(counters)) {
      this.metrics.addMetric(name, MetricUnit.Count, value - (this.previous.get(name) ?? 0));
      this.previous.set(name, value);
    }
    this.metrics.publishStoredMetrics();
  }
}
