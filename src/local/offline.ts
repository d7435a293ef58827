import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { accepts } from './net.js';

export interface OfflinePorts {
  readonly http: number;
  readonly websocket: number;
  readonly lambda: number;
}

export interface OfflineOptions {
  /** The service directory: serverless.yml and dist/ are read from it. */
  readonly serviceDir: string;
  readonly host: string;
  readonly ports: OfflinePorts;
  /** serverless.yml stage parameters (`--param name=value`). */
  readonly params: Readonly<Record<string, string>>;
  /** The child's environment; serverless-offline hands the `AWS_*` part of it to the handlers. */
  readonly env: NodeJS.ProcessEnv;
  /** 'inherit' writes the emulator's output to ours; a path appends it to that file. */
  readonly output: 'inherit' | string;
  readonly readyTimeoutMs: number;
}

export interface Offline {
  readonly pid: number;
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 5_000;

/**
 * Runs `serverless offline start` on the built bundles as a child process in its own process group,
 * and resolves once its HTTP, WebSocket and Lambda ports all accept connections.
 */
export async function startOffline(options: OfflineOptions): Promise<Offline> {
  const cli = createRequire(join(options.serviceDir, 'package.json')).resolve('serverless/bin/serverless.js');
  const args = [
    cli,
    'offline',
    'start',
    '--stage',
    'local',
    '--host',
    options.host,
    '--httpPort',
    String(options.ports.http),
    '--websocketPort',
    String(options.ports.websocket),
    '--lambdaPort',
    String(options.ports.lambda),
    // Local URLs without the /local stage prefix, like the HTTP API's $default stage on AWS.
    '--noPrependStageInUrl',
    ...Object.entries(options.params).flatMap(([name, value]) => ['--param', `${name}=${value}`]),
  ];
  const output = options.output === 'inherit' ? 'inherit' : openSync(options.output, 'a');
  const child = spawn(process.execPath, args, {
    cwd: options.serviceDir,
    env: options.env,
    stdio: ['ignore', output, output],
    // Its own process group: a terminal's Ctrl-C reaches only us, and stop() ends the whole group.
    detached: true,
  });
  if (typeof output === 'number') closeSync(output);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = () => stopGroup(child, exited);
  try {
    await Promise.race([
      waitForPorts(options.host, Object.values(options.ports), options.readyTimeoutMs),
      exited.then((code) => {
        throw new Error(
          `serverless offline exited with code ${code} before it was ready${seeOutput(options)}`,
        );
      }),
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { pid: child.pid!, stop };
}

function seeOutput(options: OfflineOptions): string {
  return options.output === 'inherit' ? '' : ` (its output: ${options.output})`;
}

async function stopGroup(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  signalGroup(child, 'SIGTERM');
  const stopped = await Promise.race([exited.then(() => true), sleep(STOP_GRACE_MS).then(() => false)]);
  if (!stopped) {
    signalGroup(child, 'SIGKILL');
    await exited;
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

async function waitForPorts(host: string, ports: readonly number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const port of ports) {
    while (!(await accepts(host, port))) {
      if (Date.now() > deadline) {
        throw new Error(`serverless offline did not open ${host}:${port} within ${timeoutMs} ms`);
      }
      await sleep(100);
    }
  }
}
