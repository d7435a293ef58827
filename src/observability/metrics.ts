/** CloudWatch namespace of this project's metrics, unless `POWERTOOLS_METRICS_NAMESPACE` names another. */
export const METRICS_NAMESPACE = 'PusherLambdaAuthorizer';

/**
 * Turns monotonically growing counters (a resolver's, an authorizer's) into CloudWatch Embedded Metric
 * Format: each call returns the growth since the previous one as `Count` metrics, with the `_aws` block that
 * makes CloudWatch extract them from the log line they are written in, so they sum across containers.
 *
 * Written here rather than with Powertools Metrics: these lines are already being logged once a minute, and
 * that library would add 15 KB to every authorizer bundle, a third of the project's cold-start size budget.
 * The format is https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
export class CounterMetrics {
  private readonly previous = new Map<string, number>();
  private readonly namespace: string;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.namespace = env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE;
  }

  /**
   * The EMF fields for the growth of `counters` since the last call, at `timestamp` (epoch ms). The dimension
   * is the `service` key every line of the Powertools logger carries.
   */
  growth(counters: Readonly<Record<string, number>>, timestamp: number): Record<string, unknown> {
    const fields: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(counters)) {
      fields[name] = value - (this.previous.get(name) ?? 0);
      this.previous.set(name, value);
    }
    fields._aws = {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: this.namespace,
          Dimensions: [['service']],
          Metrics: Object.keys(counters).map((name) => ({ Name: name, Unit: 'Count' })),
        },
      ],
    };
    return fields;
  }
}
