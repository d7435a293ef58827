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
 * Event as EventBridge sends it (its `time` the start of the period it was due in), never two runs at once.
 */
export function startSchedule(options: LocalScheduleOptions): LocalSchedule {
  let running: Promise<void> | undefined;
  let stopped = false;
  const run = async (scheduledAt: number) => {
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
  // Each tick is the period it was due in (timers drift; the period boundary does not). A run still going
  // when the next is due makes that one skip, rather than queue: the skipped slot waits for its next turn.
  const startedAt = Date.now();
  let ticks = 0;
  const timer = setInterval(() => {
    ticks++;
    if (running !== undefined) return;
    const due = Math.floor((startedAt + ticks * options.periodMs) / options.periodMs) * options.periodMs;
    running = run(due).finally(() => {
      running = undefined;
    });
  }, options.periodMs);
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
