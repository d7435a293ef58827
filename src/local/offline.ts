import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, openSync } from 'node:fs';
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

/** How the child ended, and the last lines it wrote (where a crash says why). */
export interface OfflineExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly lastOutput: string;
}

export interface Offline {
  readonly pid: number;
  /** Settles when the child ends, whether `stop()` ended it or it died. */
  readonly exited: Promise<OfflineExit>;
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 5_000;
/** Enough of the output to hold a crash's message and the top of its stack. */
const KEPT_OUTPUT_LINES = 12;
const MAX_KEPT_LINE_LENGTH = 1_000;

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
    // Handlers in this process, not a worker thread per concurrent invocation: offline counts a worker's start
    // against the timeout (AWS does not count init), so 300 subscribes at once timed out 253 times on 2 cores.
    '--useInProcess',
    ...Object.entries(options.params).flatMap(([name, value]) => ['--param', `${name}=${value}`]),
  ];
  // Opened before the child starts, so that a path that cannot be written fails the start cleanly.
  const file =
    options.output === 'inherit' ? undefined : createWriteStream('', { fd: openSync(options.output, 'a') });
  const child = spawn(process.execPath, args, {
    cwd: options.serviceDir,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: a terminal's Ctrl-C reaches only us, and stop() ends the whole group.
    detached: true,
  });
  const tail = new OutputTail(KEPT_OUTPUT_LINES);
  child.stdout!.on('data', (chunk: Buffer) => {
    tail.add(chunk);
    (file ?? process.stdout).write(chunk);
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    tail.add(chunk);
    (file ?? process.stderr).write(chunk);
  });
  const exited = new Promise<OfflineExit>((resolve) =>
    // 'close', not 'exit': the output is read to its end first, so the tail holds the last words.
    child.once('close', (code, signal) => {
      file?.end();
      resolve({ code, signal, lastOutput: tail.text() });
    }),
  );
  const stop = () => stopGroup(child, exited);
  try {
    await Promise.race([
      waitForPorts(options.host, Object.values(options.ports), options.readyTimeoutMs),
      exited.then((exit) => {
        throw new Error(`serverless offline ${describeExit(exit)} before it was ready${seeOutput(options)}`);
      }),
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { pid: child.pid!, exited, stop };
}

/** "exited with code 1" or "was killed by SIGKILL". */
export function describeExit(exit: Pick<OfflineExit, 'code' | 'signal'>): string {
  return exit.signal === null ? `exited with code ${exit.code}` : `was killed by ${exit.signal}`;
}

/** The last lines of a stream of output chunks, kept in bounded memory. */
export class OutputTail {
  private lines: string[] = [];
  private partial = '';

  constructor(private readonly maxLines: number) {}

  add(chunk: Buffer | string): void {
    const parts = (this.partial + chunk.toString()).split('\n');
    this.partial = parts.pop()!.slice(-MAX_KEPT_LINE_LENGTH);
    this.lines.push(
      ...parts.filter((line) => line.trim() !== '').map((line) => line.slice(0, MAX_KEPT_LINE_LENGTH)),
    );
    if (this.lines.length > this.maxLines) this.lines.splice(0, this.lines.length - this.maxLines);
  }

  text(): string {
    return [...this.lines, ...(this.partial.trim() === '' ? [] : [this.partial])]
      .slice(-this.maxLines)
      .join('\n');
  }
}

function seeOutput(options: OfflineOptions): string {
  return options.output === 'inherit' ? '' : ` (its output: ${options.output})`;
}

async function stopGroup(child: ChildProcess, exited: Promise<OfflineExit>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    // The leader is gone, perhaps not the rest of its group.
    signalGroup(child, 'SIGKILL');
    return;
  }
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
