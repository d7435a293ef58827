/** CloudWatch namespace of this project's metrics, unless `POWERTOOLS_METRICS_NAMESPACE` names another. */
export const METRICS_NAMESPACE = 'PusherLambdaAuthorizer';

export interface CounterMetricsOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Where the line goes; stdout by default, which Lambda sends to CloudWatch Logs. */
  readonly write?: (line: string) => void;
}

/**
 * Publishes monotonically growing counters (a resolver's, an authorizer's, a limiter's) as CloudWatch
 * Embedded Metric Format lines: each publish emits the growth since the previous one as `Count` metrics,
 * dimensioned by service, so they sum across containers. The line is written straight to stdout, whatever
 * the log level, and carries any extra fields given (the human-readable counters).
 *
 * Written here rather than with Powertools Metrics: one line a minute does not need it, and that library
 * would add 15 KB to every authorizer bundle, a third of the project's cold-start size budget. The format is
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
export class CounterMetrics {
  private readonly previous = new Map<string, number>();
  private readonly namespace: string;
  private readonly service: string;
  private readonly write: (line: string) => void;

  constructor(service: string, options: CounterMetricsOptions = {}) {
    const env = options.env ?? process.env;
    this.namespace = env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE;
    this.service = env.POWERTOOLS_SERVICE_NAME ?? service;
    this.write = options.write ?? ((line) => void process.stdout.write(line));
  }

  publish(
    counters: Readonly<Record<string, number>>,
    fields: Readonly<Record<string, unknown>>,
    timestamp: number,
  ): void {
    const line: Record<string, unknown> = { ...fields, service: this.service };
    for (const [name, value] of Object.entries(counters)) {
      line[name] = value - (this.previous.get(name) ?? 0);
      this.previous.set(name, value);
    }
    line._aws = {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: this.namespace,
          Dimensions: [['service']],
          Metrics: Object.keys(counters).map((name) => ({ Name: name, Unit: 'Count' })),
        },
      ],
    };
    this.write(`${JSON.stringify(line)}\n`);
  }
}
