#!/usr/bin/env node
// The apps CLI, run from its TypeScript sources: tsx compiles them as they load, so there is no build step.

// The AWS SDK warns on Node < 22 about its releases from 2027; an operator of this CLI cannot act on it.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const text = typeof warning === 'string' ? warning : warning?.message;
  if (typeof text === 'string' && text.startsWith('NodeVersionSupportWarning:')) return;
  emitWarning(warning, ...rest);
};

let tsx;
try {
  tsx = await import('tsx/esm/api');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
  process.stderr.write(
    'error: the apps CLI runs its TypeScript sources through tsx, a development dependency that is not ' +
      'installed here. Run "npm ci" (without --omit=dev) in the project directory, then try again.\n',
  );
  process.exit(1);
}
tsx.register();
const { runAppsCli } = await import('../src/cli/main.ts');
process.exitCode = await runAppsCli(process.argv.slice(2), {
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
});
