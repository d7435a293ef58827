import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { accepts } from '../../src/local/net.js';

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Bundling and starting serverless offline takes seconds, more on a busy shared machine. */
const READY_TIMEOUT_MS = 120_000;
const EXIT_TIMEOUT_MS = 30_000;

interface Started {
  readonly process: ChildProcess;
  readonly port: number;
  readonly offlinePid: number;
  output(): string;
}

/** Runs `npm start`'s script as a user would (PORT=0: a free port), until its banner names its ports. */
async function startNpmStart(): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, PORT: '0', POWERTOOLS_LOG_LEVEL: 'WARN' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const port = /Local stack ready on http:\/\/[^:]+:(\d+)/.exec(output)?.[1];
    const pid = /serverless offline, pid (\d+)/.exec(output)?.[1];
    if (port && pid)
      return { process: child, port: Number(port), offlinePid: Number(pid), output: () => output };
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline)
      throw new Error(`npm start was not ready within ${READY_TIMEOUT_MS} ms:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('npm start when a part of the stack dies', () => {
  let started: Started | undefined;

  afterAll(() => {
    if (started?.process.exitCode === null) started.process.kill('SIGTERM');
  });

  it('names the dead child and why, stops the rest and exits non-zero', {
    timeout: READY_TIMEOUT_MS + EXIT_TIMEOUT_MS,
  }, async () => {
    started = await startNpmStart();
    expect(await accepts('127.0.0.1', started.port)).toBe(true);
    const exited = once(started.process, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;

    process.kill(started.offlinePid, 'SIGKILL');
    const [code] = await exited;

    expect(code).toBe(1);
    expect(started.output()).toContain(
      `The local stack lost serverless offline (pid ${started.offlinePid}): it was killed by SIGKILL`,
    );
    expect(await accepts('127.0.0.1', started.port), 'the front door is closed').toBe(false);
  });
});
