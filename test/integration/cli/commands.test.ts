import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNLIMITED } from '../../../src/apps/app.js';
import { type AppItem, parseAppItem } from '../../../src/apps/parse-item.js';
import { type AppsTestTable, appsTestTable } from '../../fixtures/apps/apps-table.js';
import { appItem, bytes } from '../../fixtures/apps/items.js';
import { runCli } from '../../fixtures/cli/run-cli.js';

let table: AppsTestTable;

const apps = (...argv: string[]) => runCli(table.name, argv);

async function stored(id: string): Promise<AppItem | undefined> {
  const output = await table.client.send(
    new GetItemCommand({ TableName: table.name, Key: { AppId: { S: id } }, ConsistentRead: true }),
  );
  return output.Item;
}

function jsonLine(text: string): Record<string, unknown> {
  return JSON.parse(text.trim()) as Record<string, unknown>;
}

beforeAll(async () => {
  table = await appsTestTable('cli-commands');
});

afterAll(async () => {
  await table.drop();
});

describe('apps create', () => {
  it('generates a numeric id, a 20-hex key and a 64-hex secret, writes canonical types and prints the secret', async () => {
    const run = await apps('create', '--json');
    expect(run.code, run.stderr).toBe(0);
    const record = jsonLine(run.stdout);
    expect(record.id).toMatch(/^[1-9]\d{9}$/);
    expect(record.key).toMatch(/^[0-9a-f]{20}$/);
    expect(record.secret).toMatch(/^[0-9a-f]{64}$/);
    const item = (await stored(record.id as string))!;
    expect(item.Enabled).toEqual({ BOOL: true });
    expect(item.EnableClientMessages).toEqual({ BOOL: false });
    expect(item.EnableUserAuthentication).toEqual({ BOOL: false });
    expect(item.MaxConnections).toEqual({ N: '-1' });
    expect(item.Webhooks).toEqual({ S: '[]' });
    // The seven server-default limits stay absent, so they follow the server's setting.
    expect(item.MaxEventBatchSize).toBeUndefined();
    expect(parseAppItem(item).secret).toBe(record.secret);
  });

  it('takes every setting from flags, unlimited as -1 or "unlimited"', async () => {
    const webhooks =
      '[{"url":"https://hooks.example/p","event_types":["channel_occupied"],"headers":{"X-Token":"t0ken"}}]';
    const run = await apps(
      'create',
      '--id=flags',
      '--key=flags-key',
      '--secret=flags-secret-0123456789abcdef0123456789',
      '--disabled',
      '--enable-client-messages',
      '--enable-user-authentication',
      '--max-connections=100',
      '--max-backend-events-per-second',
      'unlimited',
      '--max-client-events-per-second=-1',
      '--max-read-requests-per-second=7',
      '--max-presence-members-per-channel=50',
      '--max-presence-member-size-in-kb=1.5',
      '--max-channel-name-length=164',
      '--max-event-channels-at-once=10',
      '--max-event-name-length=64',
      '--max-event-payload-in-kb=10',
      '--max-event-batch-size=unlimited',
      '--webhooks',
      webhooks,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Created app flags in');
    expect(run.stdout).toMatch(/^secret\s+flags-secret-0123456789abcdef0123456789$/m);
    expect(parseAppItem((await stored('flags'))!)).toEqual({
      id: 'flags',
      key: 'flags-key',
      secret: 'flags-secret-0123456789abcdef0123456789',
      enabled: false,
      enableClientMessages: true,
      enableUserAuthentication: true,
      maxConnections: 100,
      maxBackendEventsPerSecond: UNLIMITED,
      maxClientEventsPerSecond: UNLIMITED,
      maxReadRequestsPerSecond: 7,
      maxPresenceMembersPerChannel: 50,
      maxPresenceMemberSizeInKb: 1.5,
      maxChannelNameLength: 164,
      maxEventChannelsAtOnce: 10,
      maxEventNameLength: 64,
      maxEventPayloadInKb: 10,
      maxEventBatchSize: UNLIMITED,
      webhooks: [
        { url: 'https://hooks.example/p', eventTypes: ['channel_occupied'], headers: { 'X-Token': 't0ken' } },
      ],
    });
  });

  it('creates the app of a hosted Pusher secret (20 hex digits) read from standard input, with a warning', async () => {
    const secret = '7ad3773142a6692b25b8';
    const run = await runCli(
      table.name,
      ['create', '--id', '123', '--key', '278d425bdf160c739803', '--secret', '-'],
      {
        stdin: `${secret}\n`,
      },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr.split('\n').filter((line) => line.startsWith('warning:'))).toEqual([
      'warning: the secret is 20 characters, under the 32 recommended; stored as given ("apps rotate-secret" replaces it with 64 random hex digits)',
    ]);
    expect(run.stderr).not.toContain(secret);
    const app = parseAppItem((await stored('123'))!);
    expect(app).toMatchObject({ id: '123', key: '278d425bdf160c739803', secret });
  });

  it.each([
    ["soketi's default", 'app-secret'],
    ['one with spaces', '0123456789abcdef 0123456789abcdef'],
  ])('stores %s secret as given, warning only when it is short', async (_what, secret) => {
    const id = `odd-${secret.length}`;
    const run = await apps('create', `--id=${id}`, '--secret', secret);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr.includes('warning: the secret is')).toBe(secret.length < 32);
    expect(parseAppItem((await stored(id))!).secret).toBe(secret);
  });

  it('refuses an empty --secret by the item rule, naming the flag', async () => {
    const run = await apps('create', '--id=empty-secret', '--secret=');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--secret must not be empty');
    expect(await stored('empty-secret')).toBeUndefined();
  });

  it('reads --secret - from standard input and --webhooks @FILE from a file', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const directory = await mkdtemp(join(tmpdir(), 'apps-cli-'));
    await writeFile(
      join(directory, 'hooks.json'),
      '[{"lambda_function":"hook","event_types":["member_added"]}]',
    );
    const run = await runCli(
      table.name,
      ['create', '--id=piped', '--secret', '-', '--webhooks', '@hooks.json'],
      {
        stdin: 'piped-secret-0123456789abcdef0123456789\n',
        dependencies: { cwd: directory },
      },
    );
    expect(run.code, run.stderr).toBe(0);
    const app = parseAppItem((await stored('piped'))!);
    expect(app.secret).toBe('piped-secret-0123456789abcdef0123456789');
    expect(app.webhooks).toEqual([{ lambdaFunction: 'hook', eventTypes: ['member_added'] }]);
  });

  it('refuses an id that exists, with a conditional put', async () => {
    const run = await apps('create', '--id=flags', '--key=other-key');
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'error: An app with id flags already exists. Choose another --id, or change that app with apps update.\n',
    );
    expect(parseAppItem((await stored('flags'))!).key).toBe('flags-key');
  });

  it('refuses a key another app uses, asking the index before writing', async () => {
    const run = await apps('create', '--id=thief', '--key=flags-key');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('App key flags-key is already used by app flags.');
    expect(run.calls?.count('PutItemCommand')).toBe(0);
    expect(await stored('thief')).toBeUndefined();
  });

  it('retries a generated id that is taken', async () => {
    const taken = Buffer.alloc(8); // the id these bytes give is 1000000000
    await table.put(appItem('1000000000'));
    let draws = 0;
    const randomBytes = (size: number) => (size === 8 && draws++ === 0 ? taken : Buffer.alloc(size, draws));
    const run = await runCli(table.name, ['create', '--json'], { dependencies: { randomBytes } });
    expect(run.code, run.stderr).toBe(0);
    expect(jsonLine(run.stdout).id).not.toBe('1000000000');
  });

  it.each([
    [['--max-connections=0'], '--max-connections cannot be 0'],
    [['--max-event-batch-size=2.5'], '--max-event-batch-size must be a whole number'],
    [['--webhooks', '[{"url":"ftp://x","event_types":[]}]'], '--webhooks[0].url must be an http(s) URL'],
    [['--id', 'a/b'], '--id must be 1 to 256 characters'],
  ])('refuses bad settings %j with exit code 2, naming the flag', async (flags, message) => {
    const run = await apps('create', ...flags);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.calls?.total()).toBe(0);
  });
});

describe('apps get', () => {
  beforeAll(async () => {
    await table.put(
      appItem('shown', {
        Webhooks: {
          S: '[{"url":"https://h.example","event_types":["channel_vacated"],"headers":{"Authorization":"Bearer hush"}}]',
        },
      }),
      appItem('twin-a', { AppKey: { S: 'twin' } }),
      appItem('twin-b', { AppKey: { S: 'twin' } }),
      appItem('garbled', { Enabled: { S: 'maybe' } }),
    );
  });

  it('hides the secret and webhook header values unless --show-secret', async () => {
    const run = await apps('get', 'shown');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^secret\s+\*{8} \(--show-secret prints it\)$/m);
    expect(run.stdout).toMatch(
      /^maxEventBatchSize\s+server default \(10 by EVENT_MAX_BATCH_SIZE here; the deployed stage's setting applies\)$/m,
    );
    expect(run.stdout).not.toContain('shown-secret');
    expect(run.stdout).not.toContain('hush');
    const shown = await apps('get', 'shown', '--show-secret');
    expect(shown.stdout).toMatch(/^secret\s+shown-secret$/m);
    expect(shown.stdout).toContain('Bearer hush');
  });

  it('--raw prints the item as stored, its secret and webhooks only with --show-secret', async () => {
    const hidden = await apps('get', 'shown', '--raw');
    expect(hidden.code, hidden.stderr).toBe(0);
    const item = JSON.parse(hidden.stdout);
    expect(item.AppId).toEqual({ S: 'shown' });
    expect(item).not.toHaveProperty('AppSecret');
    expect(item).not.toHaveProperty('Webhooks');
    expect(hidden.stderr).toContain('--show-secret');
    expect(hidden.stdout).not.toContain('hush');
    const shown = await apps('get', 'shown', '--raw', '--show-secret');
    expect(JSON.parse(shown.stdout)).toEqual(await stored('shown'));
  });

  it('prints JSON without the secret, so it cannot be imported as is', async () => {
    const run = await apps('get', 'shown', '--json');
    const record = jsonLine(run.stdout);
    expect(record).not.toHaveProperty('secret');
    expect(record).toMatchObject({ id: 'shown', key: 'shown-key', maxConnections: -1 });
    expect(jsonLine((await apps('get', 'shown', '--json', '--show-secret')).stdout).secret).toBe(
      'shown-secret',
    );
  });

  it('finds an app by --key through the index', async () => {
    const run = await apps('get', '--key', 'shown-key', '--json');
    expect(run.code).toBe(0);
    expect(jsonLine(run.stdout).id).toBe('shown');
    expect(run.calls?.count('QueryCommand')).toBe(1);
  });

  it('fails for an unknown id or key, a shared key and an unreadable item', async () => {
    expect(await apps('get', 'nobody')).toMatchObject({
      code: 1,
      stderr: 'error: App nobody does not exist.\n',
    });
    expect((await apps('get', '--key', 'nobody')).stderr).toBe(
      'error: An app with key nobody does not exist.\n',
    );
    expect((await apps('get', '--key', 'twin')).stderr).toContain('App key twin is shared by apps');
    const garbled = await apps('get', 'garbled');
    expect(garbled.code).toBe(1);
    expect(garbled.stderr).toContain('Enabled must be a boolean');
    expect(garbled.stderr).toContain('Run "apps doctor"');
  });

  it('answers "does not exist" for an id or key that cannot exist, without asking DynamoDB', async () => {
    for (const argv of [
      ['get', ''],
      ['get', '--key', ''],
      ['disable', 'a\u0000b'],
      ['delete', '', '--yes'],
    ]) {
      const run = await apps(...argv);
      expect(run.code, argv.join(' ')).toBe(1);
      expect(run.stderr).toContain('does not exist.');
      expect(run.calls?.total()).toBe(0);
    }
  });

  it('wants an id or --key, not both', async () => {
    expect((await apps('get')).code).toBe(2);
    expect((await apps('get', 'shown', '--key', 'shown-key')).code).toBe(2);
  });
});

describe('apps list', () => {
  let listTable: AppsTestTable;
  const list = (...argv: string[]) => runCli(listTable.name, ['list', ...argv]);

  beforeAll(async () => {
    listTable = await appsTestTable('cli-list');
    await listTable.put(
      ...Array.from({ length: 5 }, (_, index) =>
        appItem(`app-${index}`, { MaxConnections: { N: String(index + 1) } }),
      ),
      appItem('unreadable', { Webhooks: { S: '{' } }),
    );
  });

  afterAll(async () => {
    await listTable.drop();
  });

  it('prints a table, one Scan page at a time, and names unreadable items on stderr with exit code 1', async () => {
    const run = await list('--page-size', '2');
    expect(run.code).toBe(1);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+KEY\s+ENABLED\s+CLIENT EVENTS\s+USER AUTH\s+MAX CONNECTIONS\s+WEBHOOKS$/);
    expect(lines).toHaveLength(6);
    expect(run.stdout).toMatch(/^app-3\s+app-3-key\s+yes\s+no\s+no\s+4\s+0$/m);
    expect(run.stdout).not.toContain('secret');
    expect(run.stderr).toContain('Invalid app item unreadable: Webhooks is not valid JSON');
    expect(run.calls?.count('ScanCommand')).toBeGreaterThanOrEqual(3);
  });

  it('prints JSON lines without secrets for scripts, and with them on request', async () => {
    const run = await list('--json');
    const records = run.stdout.trimEnd().split('\n').map(jsonLine);
    expect(records.map((record) => record.id).sort()).toEqual(['app-0', 'app-1', 'app-2', 'app-3', 'app-4']);
    expect(records.every((record) => !('secret' in record))).toBe(true);
    const shown = (await list('--json', '--show-secret')).stdout.trimEnd().split('\n').map(jsonLine);
    expect(shown.map((record) => record.secret)).toContain('app-2-secret');
    expect((await list('--show-secret')).stdout).toMatch(/\sSECRET$/m);
  });

  it('stops after --limit apps without scanning the rest', async () => {
    const run = await list('--json', '--limit', '2', '--page-size', '2');
    expect(run.stdout.trimEnd().split('\n')).toHaveLength(2);
    expect(run.calls?.count('ScanCommand')).toBe(1);
  });

  it('says so when the table is empty', async () => {
    const empty = await appsTestTable('cli-list-empty');
    const run = await runCli(empty.name, ['list']);
    await empty.drop();
    expect(run).toMatchObject({ code: 0, stdout: '' });
    expect(run.stderr).toBe(`No apps in ${empty.name}.\n`);
  });
});

describe('apps update', () => {
  beforeAll(async () => {
    await table.put(
      appItem('soketi-style', {
        Enabled: bytes('true'),
        EnableClientMessages: bytes('false'),
        MaxEventBatchSize: { N: '5' },
        CreatedBy: { S: 'someone' },
      }),
      appItem('broken', { Webhooks: { S: '[' } }),
    );
  });

  it('changes only the given settings, in canonical types, and leaves every other attribute as stored', async () => {
    const run = await apps(
      'update',
      'soketi-style',
      '--max-connections',
      '10',
      '--enable-user-authentication',
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Updated app soketi-style: enableUserAuthentication, maxConnections.');
    expect(run.stderr).toContain('APP_MANAGER_CACHE_TTL');
    const item = (await stored('soketi-style'))!;
    expect(item.MaxConnections).toEqual({ N: '10' });
    expect(item.EnableUserAuthentication).toEqual({ BOOL: true });
    expect(item.Enabled).toEqual(bytes('true'));
    expect(item.EnableClientMessages).toEqual(bytes('false'));
    expect(item.CreatedBy).toEqual({ S: 'someone' });
    expect(item.AppSecret).toEqual({ S: 'soketi-style-secret' });
  });

  it('puts a server-default limit back on the server setting with "default"', async () => {
    expect((await apps('update', 'soketi-style', '--max-event-batch-size', 'default')).code).toBe(0);
    expect((await stored('soketi-style'))!.MaxEventBatchSize).toBeUndefined();
  });

  it('changes the key only to one no other app uses', async () => {
    const taken = await apps('update', 'soketi-style', '--key', 'flags-key');
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('App key flags-key is already used by app flags.');
    // Leaving --key out of update keeps the old key; nothing is generated.
    expect(taken.stderr).not.toContain('leave it out to generate one');
    expect(taken.stderr).toContain('Choose a key no other app uses');
    expect((await apps('update', 'soketi-style', '--key', 'fresh-key', '--json')).code).toBe(0);
    expect((await stored('soketi-style'))!.AppKey).toEqual({ S: 'fresh-key' });
  });

  it('names problems the item has outside the given settings, and lets the same call fix them', async () => {
    const other = await apps('update', 'broken', '--max-connections', '3');
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('Invalid app item broken: Webhooks is not valid JSON');
    const fixed = await apps('update', 'broken', '--max-connections', '3', '--webhooks', '[]');
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(parseAppItem((await stored('broken'))!).maxConnections).toBe(3);
  });

  it('refuses an unknown app, an empty change and contradicting flags', async () => {
    expect(await apps('update', 'nobody', '--disabled')).toMatchObject({
      code: 1,
      stderr: 'error: App nobody does not exist.\n',
    });
    const empty = await apps('update', 'soketi-style');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('Nothing to change');
    expect((await apps('update', 'soketi-style', '--enabled', '--disabled')).code).toBe(2);
  });
});

describe('apps enable, disable and rotate-secret', () => {
  beforeAll(async () => {
    await table.put(appItem('switch', { Webhooks: { S: 'not json' } }));
  });

  it('switches Enabled alone, even on an item with other problems', async () => {
    expect(await apps('disable', 'switch')).toMatchObject({ code: 0, stdout: 'App switch is disabled.\n' });
    expect((await stored('switch'))!.Enabled).toEqual({ BOOL: false });
    expect((await apps('enable', 'switch')).code).toBe(0);
    expect((await stored('switch'))!.Enabled).toEqual({ BOOL: true });
    expect((await stored('switch'))!.Webhooks).toEqual({ S: 'not json' });
  });

  it('prints the new secret alone on stdout, once', async () => {
    const run = await apps('rotate-secret', 'switch');
    expect(run.code).toBe(0);
    const secret = run.stdout.trim();
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect((await stored('switch'))!.AppSecret).toEqual({ S: secret });
    expect(run.stderr).not.toContain(secret);
    expect(run.stderr).toContain('old secret');
  });

  it('fails for an unknown app without creating it', async () => {
    for (const command of ['enable', 'disable', 'rotate-secret']) {
      expect(await apps(command, 'ghost')).toMatchObject({
        code: 1,
        stderr: 'error: App ghost does not exist.\n',
      });
    }
    expect(await stored('ghost')).toBeUndefined();
  });
});

describe('apps delete', () => {
  beforeAll(async () => {
    await table.put(appItem('doomed-1'), appItem('doomed-2'), appItem('doomed-3'));
  });

  it('deletes with --yes', async () => {
    expect(await apps('delete', 'doomed-1', '--yes')).toMatchObject({
      code: 0,
      stdout: 'Deleted app doomed-1.\n',
    });
    expect(await stored('doomed-1')).toBeUndefined();
  });

  it('refuses without a terminal and without --yes, before any DynamoDB call', async () => {
    const run = await apps('delete', 'doomed-2');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('there is no terminal to ask on. Pass --yes');
    expect(run.calls?.total()).toBe(0);
    expect(await stored('doomed-2')).toBeDefined();
  });

  it('on a terminal, deletes only when the app id is typed back', async () => {
    const wrong = await runCli(table.name, ['delete', 'doomed-2'], { stdin: 'yes\n', stdinIsTTY: true });
    // A wrong confirmation is a usage error, like a missing one (exit codes in --help).
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('Type the app id to confirm: ');
    expect(wrong.stderr).toContain('Not deleted');
    expect(await stored('doomed-2')).toBeDefined();
    const right = await runCli(table.name, ['delete', 'doomed-2'], { stdin: 'doomed-2\n', stdinIsTTY: true });
    expect(right.code).toBe(0);
    expect(await stored('doomed-2')).toBeUndefined();
  });

  it('fails for an unknown app', async () => {
    expect(await apps('delete', 'nobody', '--yes')).toMatchObject({
      code: 1,
      stderr: 'error: App nobody does not exist.\n',
    });
  });
});
