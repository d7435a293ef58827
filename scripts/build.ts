// `npm run build`: bundles every handlers/*.ts into dist/<name>/index.mjs and prints their sizes.
import { buildHandlers, formatBundleTable } from '../src/local/build.js';

const started = performance.now();
const reports = await buildHandlers({ rootDir: process.cwd() });
if (reports.length === 0) {
  console.log('No handlers/*.ts to bundle.');
} else {
  console.log(formatBundleTable(reports));
  console.log(`\n${reports.length} bundles in ${Math.round(performance.now() - started)} ms`);
}
