import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';

export interface LocalScheduleOptions {
  readonly lambda: LambdaClient;
  readonly functionName: string;
  readonly periodMs: number;
  readonly region: string;
  readonly onError: (error: unknown) => void;
}

export interface LocalSchedule {
  stop(): Promise<void>;
}

/**
 * The local stand-in for an EventBridge rate schedule: invokes the function once a period with a Scheduled
 * Event as EventBridge sends it (its `time` the period's start), never two runs at once (a run that takes
 * longer than a period delays the next, as the sweeper's own time bound keeps rare).
 */
export function startSchedule(options: LocalScheduleOptions): LocalSchedule {
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const run = async () => {
    const scheduledAt = Math.floor(Date.now() / options.periodMs) * options.periodMs;
    const event = {
      version: '0',
      id: `local-${scheduledAt}`,
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: new Date(scheduledAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: options.region,
      resources: [],
      detail: {},
    };
    try {
      const output = await options.lambda.send(
        new InvokeCommand({
          FunctionName: options.functionName,
          InvocationType: 'RequestResponse',
          Payload: new TextEncoder().encode(JSON.stringify(event)),
        }),
      );
      if (output.FunctionError !== undefined)
        throw new Error(`${options.functionName} failed (${output.FunctionError})`);
    } catch (error) {
      if (!stopped) options.onError(error);
    }
  };
  const timer = setInterval(() => {
    running = running.then(run);
  }, options.periodMs);
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
