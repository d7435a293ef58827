#!/usr/bin/env node
// The apps CLI, run from its TypeScript sources: tsx compiles them as they load, so there is no build step.
import { register } from 'tsx/esm/api';

register();
const { runAppsCli } = await import('../src/cli/main.ts');
process.exitCode = await runAppsCli(process.argv.slice(2), {
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
});
