import { readdir, readFile, rm } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

/** Where each handler's bundle lands: `dist/<handler-name>/index.mjs`, the path serverless.yml points at. */
export const BUNDLE_FILE = 'index.mjs';

export interface BuildOptions {
  /** The project root: `handlers/` is read from it and `dist/` written under it. */
  readonly rootDir: string;
  readonly outDir?: string;
  /**
   * More entries bundled with exactly the same settings, by name → source path relative to `rootDir` (the
   * cold-start benchmark's SDK-only baseline).
   */
  readonly extraEntries?: Readonly<Record<string, string>>;
}

export interface BundleReport {
  /** The handler name: `handlers/<name>.ts` becomes `dist/<name>/index.mjs`. */
  readonly name: string;
  readonly file: string;
  readonly bytes: number;
  readonly gzipBytes: number;
}

/**
 * ESM bundles need `require` for the CommonJS code esbuild inlines (parts of the AWS SDK and its
 * dependencies require Node built-ins at run time), and ESM has none: give it one.
 */
const REQUIRE_SHIM =
  "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

/** `handlers/*.ts`, one Lambda each; tests and declaration files are not handlers. */
async function listHandlers(rootDir: string): Promise<string[]> {
  const entries = await readdir(join(rootDir, 'handlers')).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  return entries
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts') && !file.endsWith('.test.ts'))
    .map((file) => basename(file, '.ts'))
    .sort();
}

/**
 * Bundles every handler into its own directory, AWS SDK included (the runtime's copy is not
 * pinned to ours), minified, as ESM `.mjs` (which both Lambda and serverless-offline load as ESM
 * whatever package.json says), with linked source maps for the local stack. The output is
 * cleaned first so a removed handler leaves no stale bundle behind.
 */
export async function buildHandlers(options: BuildOptions): Promise<BundleReport[]> {
  const outDir = options.outDir ?? join(options.rootDir, 'dist');
  const sources = new Map<string, string>();
  for (const name of await listHandlers(options.rootDir)) sources.set(name, join('handlers', `${name}.ts`));
  for (const [name, file] of Object.entries(options.extraEntries ?? {})) sources.set(name, file);
  const names = [...sources.keys()];
  await rm(outDir, { recursive: true, force: true });
  if (names.length === 0) return [];
  await build({
    absWorkingDir: options.rootDir,
    entryPoints: Object.fromEntries(
      names.map((name) => [`${name}/index`, join(options.rootDir, sources.get(name)!)]),
    ),
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    // Lambda runs nodejs22.x, the local stack runs the very same bundles on Node 20.
    target: 'node20',
    format: 'esm',
    // Prefer the ES module builds: the AWS SDK's tree-shake far better than its CommonJS ones.
    mainFields: ['module', 'main'],
    banner: { js: REQUIRE_SHIM },
    minify: true,
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
  return Promise.all(names.map((name) => report(options.rootDir, join(outDir, name, BUNDLE_FILE), name)));
}

async function report(rootDir: string, file: string, name: string): Promise<BundleReport> {
  const content = await readFile(file);
  return { name, file: relative(rootDir, file), bytes: content.length, gzipBytes: gzipSync(content).length };
}

/** The bundle table `npm run build` prints. */
export function formatBundleTable(reports: readonly BundleReport[]): string {
  const rows = reports.map((r) => [r.name, kilobytes(r.bytes), kilobytes(r.gzipBytes)]);
  const header = ['handler', 'size', 'gzip'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[0]!) : cell.padStart(widths[column]!)))
      .join('  ');
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

function kilobytes(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}
