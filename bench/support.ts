// Shared timing helpers for the benchmarks: interleaved batches, medians, ratios and a printed verdict.

export interface BenchCase {
  readonly name: string;
  /** Timed synchronously, so a promise it returns is not awaited. */
  readonly run?: () => unknown;
  /** Awaited call by call; for code whose cost includes the promise machinery (a Lambda handler). */
  readonly runAsync?: () => Promise<unknown>;
}

export interface MeasureOptions {
  /** Batches per case; the median batch is reported. */
  readonly rounds?: number;
  /** Calls per batch, timed together so the clock's own cost is spread thin. */
  readonly batchSize?: number;
  /** Untimed rounds first, so every case is optimised before it is measured. */
  readonly warmupRounds?: number;
}

export interface Target {
  readonly label: string;
  readonly ratio: number;
  /** The target is met when ratio ≤ max. */
  readonly max: number;
}

export interface BenchReport {
  readonly title: string;
  /** Median nanoseconds per call, by case name, in the order measured. */
  readonly medians: ReadonlyMap<string, number>;
  readonly targets: readonly Target[];
  /** Counts to print under the table (e.g. DynamoDB calls), with their own targets. */
  readonly counts?: readonly { readonly label: string; readonly value: number; readonly max: number }[];
}

export interface Benchmark {
  readonly name: string;
  run(): BenchReport | Promise<BenchReport>;
}

/**
 * Sets environment variables for one benchmark (the handlers read them at import) and returns what puts them
 * back, so the next benchmark (a local stack reads `APP_MANAGER_DYNAMODB_ENDPOINT`) never sees a closed endpoint.
 */
export function setEnvironment(variables: Readonly<Record<string, string>>): () => void {
  const previous = Object.keys(variables).map((name) => [name, process.env[name]] as const);
  Object.assign(process.env, variables);
  return () => {
    for (const [name, value] of previous) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

// Results are folded into this so the optimiser cannot drop a call whose result is unused.
let sink = 0;

/**
 * Times every case in interleaved batches (the order rotates each round), so drift in machine load hits all
 * cases alike, and returns the median nanoseconds per call of each.
 */
export async function measureInterleaved(
  cases: readonly BenchCase[],
  options: MeasureOptions = {},
): Promise<Map<string, number>> {
  const { rounds = 41, batchSize = 2_000, warmupRounds = 5 } = options;
  const samples = cases.map((): number[] => []);
  for (let round = 0; round < warmupRounds + rounds; round++) {
    for (let offset = 0; offset < cases.length; offset++) {
      const index = (round + offset) % cases.length;
      const benchCase = cases[index]!;
      const perCall = benchCase.runAsync
        ? await timeBatchAsync(benchCase.runAsync, batchSize)
        : timeBatch(benchCase.run!, batchSize);
      if (round >= warmupRounds) samples[index]!.push(perCall);
    }
  }
  if (sink === Number.MIN_SAFE_INTEGER) console.log('');
  return new Map(cases.map((benchCase, index) => [benchCase.name, median(samples[index]!)]));
}

function timeBatch(run: () => unknown, batchSize: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < batchSize; i++) {
    const result = run();
    if (result === undefined) sink++;
  }
  return Number(process.hrtime.bigint() - start) / batchSize;
}

async function timeBatchAsync(run: () => Promise<unknown>, batchSize: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < batchSize; i++) {
    const result = await run();
    if (result === undefined) sink++;
  }
  return Number(process.hrtime.bigint() - start) / batchSize;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Ratio of two measured cases' medians, `numerator / denominator`. */
export function ratioOf(
  medians: ReadonlyMap<string, number>,
  numerator: string,
  denominator: string,
): number {
  const top = medians.get(numerator);
  const bottom = medians.get(denominator);
  if (top === undefined || bottom === undefined)
    throw new Error(`No timing for ${numerator} or ${denominator}`);
  return top / bottom;
}

/** Prints the timings as a table and one PASS/MISS line per target; returns whether every target was met. */
export function printReport(report: BenchReport): boolean {
  const rows = [...report.medians];
  const fastest = Math.min(...rows.map(([, ns]) => ns));
  const nameWidth = Math.max(...rows.map(([name]) => name.length), 4);
  console.log(`\n${report.title}`);
  console.log(`${'case'.padEnd(nameWidth)}  ${'median'.padStart(10)}  ${'× fastest'.padStart(9)}`);
  for (const [name, ns] of rows) {
    console.log(
      `${name.padEnd(nameWidth)}  ${formatNs(ns).padStart(10)}  ${(ns / fastest).toFixed(2).padStart(9)}`,
    );
  }
  let allMet = true;
  for (const target of report.targets) {
    const met = target.ratio <= target.max;
    allMet &&= met;
    console.log(
      `${met ? 'PASS' : 'MISS'}  ${target.label}: ${target.ratio.toFixed(2)} (target ≤ ${target.max})`,
    );
  }
  for (const count of report.counts ?? []) {
    const met = count.value <= count.max;
    allMet &&= met;
    console.log(`${met ? 'PASS' : 'MISS'}  ${count.label}: ${count.value} (target ≤ ${count.max})`);
  }
  return allMet;
}

function formatNs(ns: number): string {
  return ns >= 1_000 ? `${(ns / 1_000).toFixed(2)} µs` : `${ns.toFixed(0)} ns`;
}
