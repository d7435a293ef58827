import { randomUUID } from 'node:crypto';
import { type FileHandle, open, readFile, rename, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { AppItem } from '../../apps/parse-item.js';
import {
  AppAlreadyExistsError,
  type FieldProblem,
  InvalidAppItemError,
  UsageError,
} from '../../errors/errors.js';
import { appFieldsFromJson, appRecordFromItem, buildAppItem, withNewAppDefaults } from '../app-record.js';
import type { CommandContext } from '../context.js';
import { RECOMMENDED_SECRET_LENGTH, weakSecretWarning } from '../credentials.js';
import { memberPath } from '../fields.js';
import { type OutputStream, readAll, writeAndDrain } from '../io.js';
import { startProgress } from '../progress.js';
import { itemAsDynamoDbJson } from '../raw-item.js';

/** Writes in flight during an import: fast on a large file, gentle on an on-demand table. */
export const IMPORT_CONCURRENCY = 8;

export interface ImportOptions {
  /** A path, or `-` for standard input. */
  readonly file: string;
  readonly dryRun: boolean;
  /** Replace apps whose id exists instead of failing their line. */
  readonly overwrite: boolean;
}

interface Candidate {
  readonly line: number;
  readonly item: AppItem;
  readonly id: string;
  readonly key: string;
}

/**
 * Imports JSON lines (the format `export` writes). Every line is checked first; a bad line is reported
 * by number, naming its bad fields (quoting only non-secret values), and the other lines go on. Then each app is
 * written like `create` does: refused if its key belongs to another app, or if its id exists (unless
 * `--overwrite`, which names each app it replaces). An app the table already holds exactly counts as
 * imported, so a stopped import can simply be run again; a stop names the lines not imported. Exit code 1
 * when any line failed.
 */
export async function importApps(context: CommandContext, options: ImportOptions): Promise<number> {
  const text = await readImportText(context, options.file);
  const failures: string[] = [];
  const fail = (line: number, id: string | undefined, problem: string) =>
    `line ${line}${id === undefined ? '' : ` (app ${id})`}: ${problem}`;
  const candidates: Candidate[] = [];
  const idLines = new Map<string, number>();
  const keyLines = new Map<string, number>();
  let lines = 0;
  text.split(/\r?\n/).forEach((content, index) => {
    if (content.trim() === '') return;
    lines += 1;
    const line = index + 1;
    const checked = checkLine(content);
    if ('problems' in checked) {
      failures.push(fail(line, checked.id, describeProblems(checked.problems)));
      return;
    }
    const { id, key } = checked;
    const sameId = idLines.get(id);
    const sameKey = keyLines.get(key);
    if (sameId !== undefined) failures.push(fail(line, id, `the id is also on line ${sameId}`));
    else if (sameKey !== undefined) failures.push(fail(line, id, `the key is also on line ${sameKey}`));
    else candidates.push({ line, ...checked });
    idLines.set(id, idLines.get(id) ?? line);
    keyLines.set(key, keyLines.get(key) ?? line);
  });
  for (const failure of failures) context.stderr.write(`${failure}\n`);
  const weakSecrets = candidates.filter(
    ({ item }) => weakSecretWarning(item.AppSecret?.S ?? '') !== undefined,
  );
  if (weakSecrets.length > 0) context.stderr.write(`warning: ${weakSecretsNote(weakSecrets)}\n`);

  const progress = startProgress(
    context.stderr,
    candidates.length,
    options.dryRun ? 'Checking' : 'Importing',
    context.now,
  );
  const imported: Candidate[] = [];
  const replaced: Candidate[] = [];
  const identical: Candidate[] = [];
  const settled = new Set<number>();
  const importOne = async (candidate: Candidate) => {
    const outcome = await writeCandidate(context, candidate, options);
    settled.add(candidate.line);
    if (outcome === 'identical') identical.push(candidate);
    else if (outcome === 'created' || outcome === 'replaced') {
      imported.push(candidate);
      if (outcome === 'replaced') {
        replaced.push(candidate);
        progress.log(
          fail(
            candidate.line,
            candidate.id,
            `${options.dryRun ? 'would replace' : 'replaced'} the existing app`,
          ),
        );
      }
    } else {
      const failure = fail(candidate.line, candidate.id, outcome.problem);
      failures.push(failure);
      progress.log(failure);
    }
    progress.advance();
  };
  try {
    await inParallel(candidates, IMPORT_CONCURRENCY, importOne);
  } catch (error) {
    progress.finish();
    const left = candidates.filter((candidate) => !settled.has(candidate.line)).map(({ line }) => line);
    context.stderr.write(
      `Stopped after ${imported.length} apps were ${options.dryRun ? 'checked' : 'imported'}. ` +
        `Not ${options.dryRun ? 'checked' : 'imported'}: ${lineRanges(left)}. Once the cause is fixed, ` +
        'import the whole file again: apps already imported identically count as imported.\n',
    );
    throw error;
  }
  progress.finish();
  const source = options.file === '-' ? 'standard input' : options.file;
  const replacing =
    replaced.length === 0
      ? ''
      : `, replacing existing app${replaced.length === 1 ? '' : 's'} ${listIds(replaced)}`;
  const already =
    identical.length === 0
      ? ''
      : `; ${identical.length} already there, identical (${lineRanges(identical.map(({ line }) => line))})`;
  const failed = failures.length === 0 ? '' : `; ${failures.length} of ${lines} lines failed`;
  const outcome = `${replacing}${already}${failed}`;
  context.stdout.write(
    options.dryRun
      ? `Dry run: ${imported.length} apps from ${source} would be imported${outcome}. Nothing was written.\n`
      : `Imported ${imported.length} apps from ${source} into ${context.target.table}${outcome}.\n`,
  );
  return failures.length > 0 ? 1 : 0;
}

const LISTED_IDS = 10;

/** Ids for a summary line: the first few, then how many more (each was named on its own line above). */
function listIds(candidates: readonly Candidate[]): string {
  const ids = candidates.map(({ id }) => id).sort();
  if (ids.length <= LISTED_IDS) return ids.join(', ');
  return `${ids.slice(0, LISTED_IDS).join(', ')} and ${ids.length - LISTED_IDS} more (named above)`;
}

/** One line for every app whose secret is short: imported as given, as soketi and Pusher issue them. */
function weakSecretsNote(candidates: readonly Candidate[]): string {
  const ids = candidates.map(({ id }) => id).sort();
  const listed =
    ids.length <= LISTED_IDS
      ? ids.join(', ')
      : `${ids.slice(0, LISTED_IDS).join(', ')} and ${ids.length - LISTED_IDS} more`;
  return (
    `${ids.length === 1 ? 'app' : 'apps'} ${listed}: secret under ${RECOMMENDED_SECRET_LENGTH} characters, ` +
    'stored as given ("apps rotate-secret ID" replaces one with 64 random hex digits)'
  );
}

/** `line 4` or `lines 1-3, 5, 7-12`. */
function lineRanges(lineNumbers: readonly number[]): string {
  const sorted = [...lineNumbers].sort((a, b) => a - b);
  const ranges: string[] = [];
  for (let index = 0; index < sorted.length; ) {
    let end = index;
    while (end + 1 < sorted.length && sorted[end + 1] === sorted[end]! + 1) end += 1;
    ranges.push(end === index ? String(sorted[index]) : `${sorted[index]}-${sorted[end]}`);
    index = end + 1;
  }
  return `${sorted.length === 1 ? 'line' : 'lines'} ${ranges.join(', ')}`;
}

export interface ExportOptions {
  /** A file to write instead of standard output. */
  readonly output: string | undefined;
  /** Replace `output` if it exists. */
  readonly force: boolean;
  /** Every item as stored, as DynamoDB JSON, instead of app records: a backup that keeps everything. */
  readonly raw: boolean;
}

/**
 * Exports every app as one JSON line, page by page; `import` reads the same lines back. With `raw`, every
 * item as stored (DynamoDB JSON), including those this service cannot read.
 */
export async function exportApps(context: CommandContext, options: ExportOptions): Promise<number> {
  const { output } = options;
  if (output === undefined && context.stdout.isTTY) {
    throw new UsageError(
      'export writes app secrets: write them to an owner-only file with -o FILE (apps export -o apps.jsonl).',
    );
  }
  const file =
    output === undefined ? undefined : await openOutput(resolve(context.cwd, output), options.force);
  const sink: OutputStream =
    file === undefined ? context.stdout : { write: (text: string) => file.handle.write(text) };
  let exported = 0;
  let unreadable = 0;
  let complete = false;
  try {
    for await (const page of context.table.pages(100)) {
      const lines: string[] = [];
      for (const item of page) {
        try {
          const line = options.raw
            ? itemAsDynamoDbJson(item)
            : appRecordFromItem(item, context.limitDefaults);
          lines.push(`${JSON.stringify(line)}\n`);
        } catch (error) {
          if (!(error instanceof InvalidAppItemError)) throw error;
          unreadable += 1;
          context.stderr.write(`Not exported: ${error.message}. Run "apps doctor" for details.\n`);
        }
      }
      if (lines.length > 0) await writeAndDrain(sink, lines.join(''));
      exported += lines.length;
    }
    complete = true;
  } finally {
    await file?.close(complete);
  }
  context.stderr.write(`Exported ${exported} apps${output === undefined ? '' : ` to ${output}`}.\n`);
  return unreadable > 0 ? 1 : 0;
}

interface OutputFile {
  readonly handle: FileHandle;
  /** Closes the file; with `--force`, moves it into place when `complete`, else deletes it. */
  close(complete: boolean): Promise<void>;
}

/**
 * Opens an export file owner-only (it holds every secret). Without `force` an existing file is refused,
 * so its permissions can never be inherited; with `force` the export goes to a new temporary file that
 * replaces the old one once complete.
 */
async function openOutput(path: string, force: boolean): Promise<OutputFile> {
  const create = async (target: string) => {
    try {
      return await open(target, 'wx', 0o600);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      if (code === 'EEXIST' && target === path) {
        throw new UsageError(`${path} exists: choose a new file, or add --force to replace it.`);
      }
      throw new UsageError(`Cannot write ${path} (${code}).`);
    }
  };
  if (!force) {
    const handle = await create(path);
    return { handle, close: () => handle.close() };
  }
  const temporary = `${path}.${process.pid}-${randomUUID()}.tmp`;
  const handle = await create(temporary);
  return {
    handle,
    close: async (complete) => {
      await handle.close();
      if (complete) await rename(temporary, path);
      else await rm(temporary, { force: true });
    },
  };
}

function checkLine(content: string): Omit<Candidate, 'line'> | { id?: string; problems: FieldProblem[] } {
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch {
    return { problems: [{ field: '', problem: 'not valid JSON' }] };
  }
  const read = appFieldsFromJson(json);
  const built = buildAppItem({}, withNewAppDefaults(read.fields));
  if (built.ok && read.problems.length === 0)
    return { item: built.item, id: built.app.id, key: built.app.key };
  // A member with the wrong JSON type was left out of the fields: name it once, not again as missing.
  const mistyped = new Set(read.problems.map((problem) => problem.field));
  if (mistyped.has('')) return { problems: read.problems };
  const problems = [
    ...read.problems,
    ...(built.ok ? [] : built.problems)
      .map((problem) => ({ ...problem, field: memberPath(problem.field) }))
      .filter((problem) => !mistyped.has(problem.field.split(/[.[]/)[0]!)),
  ];
  return { id: read.fields.id, problems };
}

/**
 * What became of one app (or would, on a dry run): `identical` when the table already holds exactly this
 * item, so running a stopped import again goes on where it stopped.
 */
type WriteOutcome = 'created' | 'replaced' | 'identical' | { readonly problem: string };

async function writeCandidate(
  context: CommandContext,
  candidate: Candidate,
  options: ImportOptions,
): Promise<WriteOutcome> {
  const others = await context.table.otherAppsWithKey(candidate.key, candidate.id);
  if (others.length > 0) return { problem: `the key is already used by app ${others.join(', ')}` };
  const exists = { problem: 'an app with this id already exists (--overwrite replaces it)' };
  const existing = (old: AppItem | undefined): WriteOutcome => {
    if (old === undefined) return 'created';
    if (isDeepStrictEqual(old, candidate.item)) return 'identical';
    return options.overwrite ? 'replaced' : exists;
  };
  if (options.dryRun) return existing(await context.table.get(candidate.id));
  if (options.overwrite) return existing(await context.table.replace(candidate.item));
  try {
    await context.table.create(candidate.item);
    return 'created';
  } catch (error) {
    if (!(error instanceof AppAlreadyExistsError)) throw error;
    return existing(await context.table.get(candidate.id));
  }
}

function describeProblems(problems: readonly FieldProblem[]): string {
  return problems.map((problem) => `${problem.field} ${problem.problem}`.trim()).join('; ');
}

async function readImportText(context: CommandContext, file: string): Promise<string> {
  if (file === '-') return readAll(context.stdin);
  const path = resolve(context.cwd, file);
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`Cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'}).`);
  }
}

/**
 * Runs `work` over `items` with at most `limit` in flight. The first failure stops new work and is
 * thrown once the running calls have settled.
 */
async function inParallel<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next]!;
      next += 1;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
}
