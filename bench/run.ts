// Entry of `npm run bench`. Each benchmark is a module exporting a Benchmark; add new ones to the list.
// Exits with status 1 when a target is missed.
import { authorizerBenchmark } from './authorizers.js';
import { signatureBenchmark } from './signatures.js';
import { type Benchmark, printReport } from './support.js';
import { webhookBenchmark } from './webhooks.js';

const benchmarks: readonly Benchmark[] = [signatureBenchmark, authorizerBenchmark, webhookBenchmark];

let allMet = true;
for (const benchmark of benchmarks) {
  allMet = printReport(await benchmark.run()) && allMet;
}
if (!allMet) process.exitCode = 1;
