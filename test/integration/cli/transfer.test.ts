import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAppItem } from '../../../src/apps/parse-item.js';
import { type AppsTestTable, appsTestTable } from '../../fixtures/apps/apps-table.js';
import { appItem } from '../../fixtures/apps/items.js';
import { runCli } from '../../fixtures/cli/run-cli.js';

let source: AppsTestTable;
let target: AppsTestTable;
let directory: string;

const line = (fields: Record<string, unknown>) => JSON.stringify(fields);
// Secrets of 32 characters and more: a shorter one is imported with a warning (tested on its own).
const minimal = (id: string, extra: Record<string, unknown> = {}) =>
  line({ id, key: `${id}-key`, secret: `${id}-secret-0123456789abcdef0123456789`, ...extra });

async function itemsOf(table: AppsTestTable) {
  const output = await table.client.send(new ScanCommand({ TableName: table.name }));
  return (output.Items ?? []).sort((a, b) => a.AppId!.S!.localeCompare(b.AppId!.S!));
}

async function file(name: string, lines: readonly string[]): Promise<string> {
  const path = join(directory, name);
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

beforeAll(async () => {
  [source, target] = await Promise.all([appsTestTable('cli-export'), appsTestTable('cli-import')]);
  directory = await mkdtemp(join(tmpdir(), 'apps-cli-transfer-'));
});

afterAll(async () => {
  await Promise.all([source.drop(), target.drop()]);
});

describe('apps import', () => {
  it('quotes a bad non-secret value, never the secret, a header value or a URL', async () => {
    const path = await file('quoted.jsonl', [
      minimal('quoted', {
        secret: 'hunter2-secret',
        maxEventBatchSize: 1.5,
        webhooks: [
          {
            url: 'ftp://u:pw@h.example/?t=url-t0ken',
            event_types: ['nope'],
            headers: { 'X-A': 'hdr-t0ken\n' },
          },
        ],
      }),
    ]);
    const run = await runCli(target.name, ['import', '--dry-run', path]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('maxEventBatchSize must be a whole number, got "1.5"');
    expect(run.stderr).toContain('is not a known event type: "nope"');
    for (const secret of ['hunter2-secret', 'url-t0ken', 'pw@', 'hdr-t0ken'])
      expect(run.stderr).not.toContain(secret);
  });

  it('imports the good lines, reports each bad one by number and field, never a secret, and exits 1', async () => {
    await target.put(appItem('existing', { AppKey: { S: 'taken-key' } }));
    const path = await file('mixed.jsonl', [
      minimal('good-1', { maxConnections: 'unlimited', enableClientMessages: true, maxEventBatchSize: 20 }),
      '{"id": "half", "key": ',
      '',
      minimal('bad-types', { enabled: 'yes', maxConnections: '10', colour: 'blue' }),
      minimal('bad-values', {
        maxConnections: 0,
        webhooks: [{ url: 'https://h.example' }],
        secret: 'hunter2',
      }),
      line({ id: 'no-secret', key: 'no-secret-key' }),
      minimal('good-2', { webhooks: [{ url: 'https://h.example/x', event_types: ['member_added'] }] }),
      minimal('good-1'),
      minimal('steals-key', { key: 'taken-key' }),
      minimal('existing', { key: 'existing-key' }),
      '[1, 2]',
    ]);
    const run = await runCli(target.name, ['import', path]);
    expect(run.code).toBe(1);
    expect(run.stderr.trimEnd().split('\n').sort()).toEqual(
      [
        'line 2: not valid JSON',
        'line 4 (app bad-types): enabled must be true or false; maxConnections must be a number, -1 or "unlimited"; colour is not an app field (fields: id, key, secret, enabled, enableClientMessages, enableUserAuthentication, maxConnections, maxBackendEventsPerSecond, maxClientEventsPerSecond, maxReadRequestsPerSecond, maxPresenceMembersPerChannel, maxPresenceMemberSizeInKb, maxChannelNameLength, maxEventChannelsAtOnce, maxEventNameLength, maxEventPayloadInKb, maxEventBatchSize, webhooks)',
        "line 5 (app bad-values): maxConnections cannot be 0, which soketi's schema reads as unlimited; use -1 for unlimited, or disable the app; webhooks[0].event_types must be a non-empty array of event types (channel_occupied, channel_vacated, member_added, member_removed, client_event, cache_miss, subscription_count)",
        'line 6 (app no-secret): secret is missing',
        'line 8 (app good-1): the id is also on line 1',
        'line 9 (app steals-key): the key is already used by app existing',
        'line 10 (app existing): an app with this id already exists (--overwrite replaces it)',
        'line 11: not a JSON object',
      ].sort(),
    );
    expect(run.stderr).not.toContain('hunter2');
    expect(run.stdout).toBe(`Imported 2 apps from ${path} into ${target.name}; 8 of 10 lines failed.\n`);
    const good = parseAppItem((await itemsOf(target)).find((item) => item.AppId!.S === 'good-1')!);
    expect(good).toMatchObject({
      enableClientMessages: true,
      maxConnections: Number.POSITIVE_INFINITY,
      maxEventBatchSize: 20,
    });
    expect((await itemsOf(target)).map((item) => item.AppId!.S)).toEqual(['existing', 'good-1', 'good-2']);
  });

  it('imports the short secrets soketi and Pusher issue as given, with one warning line naming the apps', async () => {
    const path = await file('short-secrets.jsonl', [
      line({ id: 'pusher-style', key: 'pusher-style-key', secret: '7ad3773142a6692b25b8' }),
      line({ id: 'soketi-style', key: 'soketi-style-key', secret: 'app-secret' }),
      minimal('long-secret'),
    ]);
    const run = await runCli(target.name, ['import', path]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe(
      'warning: apps pusher-style, soketi-style: secret under 32 characters, stored as given ("apps rotate-secret ID" replaces one with 64 random hex digits)\n',
    );
    const secrets = Object.fromEntries(
      (await itemsOf(target)).map((item) => [item.AppId!.S, item.AppSecret!.S]),
    );
    expect(secrets).toMatchObject({ 'pusher-style': '7ad3773142a6692b25b8', 'soketi-style': 'app-secret' });
  });

  it('--dry-run checks every line against the table and writes nothing', async () => {
    const path = await file('dry.jsonl', [
      minimal('dry-1'),
      minimal('good-2'),
      minimal('dry-2', { key: 'good-1-key' }),
    ]);
    const run = await runCli(target.name, ['import', '--dry-run', path]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(
      `Dry run: 1 apps from ${path} would be imported; 2 of 3 lines failed. Nothing was written.\n`,
    );
    expect(run.stderr).toContain('line 2 (app good-2): an app with this id already exists');
    expect(run.stderr).toContain('line 3 (app dry-2): the key is already used by app good-1');
    expect(run.calls?.count('PutItemCommand')).toBe(0);
    expect((await itemsOf(target)).map((item) => item.AppId!.S)).not.toContain('dry-1');
  });

  it('--overwrite replaces apps with the same id, naming each one, and --dry-run lists them first', async () => {
    const path = await file('overwrite.jsonl', [minimal('good-2', { enabled: false }), minimal('new-one')]);
    const dry = await runCli(target.name, ['import', '--overwrite', '--dry-run', path]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toBe('line 1 (app good-2): would replace the existing app\n');
    expect(dry.stdout).toBe(
      `Dry run: 2 apps from ${path} would be imported, replacing existing app good-2. Nothing was written.\n`,
    );
    const run = await runCli(target.name, ['import', '--overwrite', path]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('line 1 (app good-2): replaced the existing app\n');
    expect(run.stdout).toBe(
      `Imported 2 apps from ${path} into ${target.name}, replacing existing app good-2.\n`,
    );
    const item = await target.client.send(
      new GetItemCommand({ TableName: target.name, Key: { AppId: { S: 'good-2' } } }),
    );
    expect(parseAppItem(item.Item!)).toMatchObject({ enabled: false, webhooks: [] });
  });

  it('treats an identical app already in the table as imported, so a failed import can be run again', async () => {
    const path = await file('again.jsonl', [minimal('again-1'), minimal('again-2'), minimal('again-3')]);
    await runCli(target.name, ['import', await file('first-part.jsonl', [minimal('again-1')])]);
    const run = await runCli(target.name, ['import', path]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(
      `Imported 2 apps from ${path} into ${target.name}; 1 already there, identical (line 1).\n`,
    );
  });

  it('reads standard input with -', async () => {
    const run = await runCli(target.name, ['import', '-'], { stdin: `${minimal('from-stdin')}\n` });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(`Imported 1 apps from standard input into ${target.name}.\n`);
  });

  it('refuses a file it cannot read with exit code 2', async () => {
    const run = await runCli(target.name, ['import', join(directory, 'missing.jsonl')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('(ENOENT)');
  });

  it('draws a progress bar on a terminal for a large import, with failures printed above it', async () => {
    const lines = Array.from({ length: 50 }, (_, index) => minimal(`bulk-${index}`));
    lines[30] = minimal('good-1');
    const path = await file('bulk.jsonl', lines);
    let clock = 0;
    const run = await runCli(target.name, ['import', path], {
      stderrIsTTY: true,
      dependencies: { now: () => (clock += 10) },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('\r\x1b[2KImporting [..............................] 0/50 0%');
    expect(run.stderr).toContain('\r\x1b[2Kline 31 (app good-1): an app with this id already exists');
    expect(run.stderr).toMatch(/Importing \[#{30}\] 50\/50 100%\n$/);
    expect(run.stdout).toBe(`Imported 49 apps from ${path} into ${target.name}; 1 of 50 lines failed.\n`);
  });
});

describe('apps export', () => {
  beforeAll(async () => {
    const created = [
      ['create', '--id=plain'],
      [
        'create',
        '--id=tuned',
        '--disabled',
        '--max-connections=5',
        '--max-event-payload-in-kb=2.5',
        '--enable-client-messages',
      ],
      [
        'create',
        '--id=hooked',
        '--webhooks',
        '[{"url":"https://h.example/p","event_types":["client_event"],"filter":{"channel_name_starts_with":"private-"},"headers":{"X-A":"b"}}]',
      ],
    ];
    for (const argv of created) expect((await runCli(source.name, argv)).code).toBe(0);
  });

  it('writes JSON lines that import reads back into the same items', async () => {
    const exported = await runCli(source.name, ['export']);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stderr).toBe('Exported 3 apps.\n');
    const path = await file('round-trip.jsonl', exported.stdout.trimEnd().split('\n'));
    const copy = await appsTestTable('cli-round-trip');
    const imported = await runCli(copy.name, ['import', path]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(await itemsOf(copy)).toEqual(await itemsOf(source));
    const again = await runCli(copy.name, ['export']);
    expect(again.stdout.split('\n').sort()).toEqual(exported.stdout.split('\n').sort());
    await copy.drop();
  });

  it('writes --output owner-only, and refuses to print secrets to a terminal', async () => {
    const path = join(directory, 'export.jsonl');
    const run = await runCli(source.name, ['export', '--output', path], { stdoutIsTTY: true });
    expect(run.code).toBe(0);
    expect((await readFile(path, 'utf8')).trimEnd().split('\n')).toHaveLength(3);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const refused = await runCli(source.name, ['export'], { stdoutIsTTY: true });
    expect(refused).toMatchObject({ code: 2, stdout: '' });
    expect(refused.stderr).toContain('export writes app secrets');
    expect(refused.stderr).toContain('-o FILE');
  });

  it('refuses to write over an existing file unless --force, which replaces it owner-only', async () => {
    const path = join(directory, 'existing.jsonl');
    await writeFile(path, 'old\n', { mode: 0o644 });
    const refused = await runCli(source.name, ['export', '-o', path]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--force');
    expect(await readFile(path, 'utf8')).toBe('old\n');
    const forced = await runCli(source.name, ['export', '-o', path, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect((await readFile(path, 'utf8')).trimEnd().split('\n')).toHaveLength(3);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await readdir(directory)).filter((name) => name.startsWith('existing.jsonl.'))).toEqual([]);
  });

  it("steers npm users away from npm's banner in redirected output", async () => {
    const help = await runCli(source.name, ['export', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('"npm run --silent apps -- …" or "npx apps …"');
  });

  it('names a directory that does not exist as a usage error', async () => {
    const path = join(directory, 'missing', 'x.jsonl');
    const run = await runCli(source.name, ['export', '-o', path]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`error: Cannot write ${path} (ENOENT).\n`);
  });

  it('--raw writes every item as stored, as DynamoDB JSON, unreadable and soketi-style ones included', async () => {
    const odd = appItem('odd', {
      MaxConnections: { S: 'lots' },
      Enabled: { B: new TextEncoder().encode('true') },
      enabled: { BOOL: false },
      Webhooks: { L: [{ M: { url: { S: 'https://h.example' } } }] },
    });
    await source.put(odd);
    const run = await runCli(source.name, ['export', '--raw']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('Exported 4 apps.\n');
    const lines = run.stdout
      .trimEnd()
      .split('\n')
      .map((text) => JSON.parse(text));
    expect(lines).toHaveLength(4);
    expect(lines.find((item) => item.AppId.S === 'odd')).toEqual({
      ...odd,
      Enabled: { B: Buffer.from('true').toString('base64') },
    });
    await source.remove('odd');
  });

  it('skips an item it cannot read, names it, and exits 1', async () => {
    await source.put(appItem('unreadable', { MaxConnections: { S: 'lots' } }));
    const run = await runCli(source.name, ['export']);
    expect(run.code).toBe(1);
    expect(run.stdout.trimEnd().split('\n')).toHaveLength(3);
    expect(run.stderr).toContain(
      'Not exported: Invalid app item unreadable: MaxConnections must be a number',
    );
    await source.remove('unreadable');
  });
});
