// Entry of `npm run bench` (every benchmark) and of `npm run bench:<name>` (the one named as an argument). Each
// benchmark is a module exporting a Benchmark; add new ones to the list. Exits with status 1 when a target is
// missed.
import { authorizerBenchmark } from './authorizers.js';
import { fanOutBenchmark } from './fan-out.js';
import { signatureBenchmark } from './signatures.js';
import { type Benchmark, printReport } from './support.js';
import { webhookBenchmark } from './webhooks.js';

const benchmarks: readonly Benchmark[] = [
  signatureBenchmark,
  authorizerBenchmark,
  webhookBenchmark,
  fanOutBenchmark,
];
const only = process.argv[2];
const chosen = only === undefined ? benchmarks : benchmarks.filter((benchmark) => benchmark.name === only);
if (chosen.length === 0) {
  console.error(
    `no benchmark named ${only}; there are: ${benchmarks.map((benchmark) => benchmark.name).join(', ')}`,
  );
  process.exit(2);
}

let allMet = true;
for (const benchmark of chosen) {
  allMet = printReport(await benchmark.run()) && allMet;
}
if (!allMet) process.exitCode = 1;
