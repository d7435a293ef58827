import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../../..');
const CRUISER = join(ROOT, 'node_modules/.bin/depcruise');

interface Violation {
  readonly rule: { readonly name: string };
  readonly from: string;
  readonly to: string;
}

/** The import check exactly as `npm run lint:imports` runs it, on the tree at `cwd`. */
async function violationsIn(cwd: string): Promise<Violation[]> {
  const args = [
    '--config',
    join(ROOT, '.dependency-cruiser.cjs'),
    '--output-type',
    'json',
    'src',
    'handlers',
  ];
  const { stdout } = await run(CRUISER, args, { cwd, maxBuffer: 64 * 1024 * 1024 }).catch(
    (failure: { stdout?: string }) => ({ stdout: failure.stdout ?? '' }),
  );
  return (JSON.parse(stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

describe('the import rules (.dependency-cruiser.cjs)', () => {
  let tree: string;

  beforeAll(() => {
    // A copy of the real tree, so the plants below meet the real rooms and the real config.
    tree = mkdtempSync(join(tmpdir(), 'import-rules-'));
    for (const part of ['src', 'handlers', 'types', 'tsconfig.json'])
      cpSync(join(ROOT, part), join(tree, part), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(tree, 'node_modules'));
  });

  afterAll(() => rmSync(tree, { recursive: true, force: true }));

  it('passes the tree as it is', async () => {
    expect(await violationsIn(ROOT)).toEqual([]);
  });

  it('fails on a file cycle, a room cycle made of type-only imports, an upward import and a stray file', async () => {
    const plant = (path: string, text: string) => writeFileSync(join(tree, path), text);
    plant('src/publish/planted-a.ts', "import type { B } from './planted-b.js';\nexport type A = B;\n");
    plant('src/publish/planted-b.ts', "import type { A } from './planted-a.js';\nexport type B = A | 1;\n");
    plant(
      'src/protocol/planted-up.ts',
      "import type { Outcome } from '../websocket/outcome.js';\nexport type Up = Outcome;\n",
    );
    plant('src/planted-stray.ts', 'export const stray = 1;\n');
    plant(
      'src/publish/uses-stray.ts',
      "import { stray } from '../planted-stray.js';\nexport const used = stray;\n",
    );

    const found = (await violationsIn(tree)).map(({ rule, from }) => `${rule.name} ${from}`);

    expect(found).toContain('no-circular src/publish/planted-a.ts');
    expect(found).toContain('room-protocol src/protocol/planted-up.ts');
    expect(found).toContain('known-rooms src/publish/uses-stray.ts');
    expect(found.some((line) => line.startsWith('no-folder-cycles src/protocol'))).toBe(true);
  });
});
