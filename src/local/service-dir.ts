import { copyFile, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ServiceDir {
  readonly dir: string;
  remove(): Promise<void>;
}

/** What serverless offline reads besides the bundles; linked, so the stack always runs the checkout's. */
const LINKED = ['scripts', 'edge', 'handlers', 'node_modules'];

/**
 * A private serverless service directory outside the project: serverless.yml, links to what it loads,
 * and a `dist/` of its own for the bundles. Stacks started side by side (tests run in parallel) never
 * rebuild each other's bundles, and nothing is written into the project tree.
 */
export async function createServiceDir(rootDir: string): Promise<ServiceDir> {
  const dir = await mkdtemp(join(tmpdir(), 'pusher-local-stack-'));
  await copyFile(join(rootDir, 'serverless.yml'), join(dir, 'serverless.yml'));
  for (const name of LINKED) await symlink(join(rootDir, name), join(dir, name), 'dir');
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
