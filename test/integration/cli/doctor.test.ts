import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, UNLIMITED } from '../../../src/apps/app.js';
import { type AppItem, parseAppItem, toAppItem } from '../../../src/apps/parse-item.js';
import { DEFAULT_APP_LIMITS } from '../../../src/config/config.js';
import { type AppsTestTable, appsTestTable } from '../../fixtures/apps/apps-table.js';
import { appItem, SEED_EXAMPLE_APP, testApp } from '../../fixtures/apps/items.js';
import { runCli } from '../../fixtures/cli/run-cli.js';
import { SOKETI_TABLE } from '../../fixtures/cli/soketi-items.js';
import { dynamodbEndpoint } from '../../support/dynamodb.js';

let table: AppsTestTable;
const FIXABLE = ['app-id', 'limits', 'disabled', 'strings'];
const SECRETS = Object.values(SOKETI_TABLE).map((item) => item.AppSecret!.S!);

/** One app's part of the doctor's report: its status line and the findings under it. */
function blockOf(report: string, appId: string): string {
  return report.split(/\n(?=\S)/).find((part) => part.startsWith(`${appId} (`)) ?? '';
}

/** Every "this service reads X" / "both read X" of one app's block in the doctor's report, by attribute. */
function reportedReadings(report: string, appId: string): Map<string, string> {
  const block = blockOf(report, appId);
  const readings = new Map<string, string>();
  for (const match of block.matchAll(
    /\[\w+\] (\w+): .*?(?:this service reads|both read) ([^.;)]+(?:\.\d+)?)/g,
  )) {
    readings.set(match[1]!, match[2]!);
  }
  return readings;
}

/** The `App` value a reported reading stands for. */
function readingValue(reading: string): unknown {
  if (reading === 'true' || reading === 'false') return reading === 'true';
  if (reading === 'unlimited') return UNLIMITED;
  if (reading.startsWith('0, nothing')) return 0;
  return Number(reading);
}

function memberOf(attribute: string): keyof App {
  return (attribute[0]!.toLowerCase() + attribute.slice(1)) as keyof App;
}

async function stored(id: string): Promise<AppItem> {
  const run = await runCli(table.name, ['get', id, '--json', '--show-secret']);
  expect(run.code, run.stderr).toBe(0);
  const { GetItemCommand } = await import('@aws-sdk/client-dynamodb');
  const output = await table.client.send(
    new GetItemCommand({ TableName: table.name, Key: { AppId: { S: id } } }),
  );
  return output.Item!;
}

beforeAll(async () => {
  table = await appsTestTable('cli-doctor');
  await table.put(...Object.values(SOKETI_TABLE));
});

afterAll(async () => {
  await table.drop();
});

describe('apps doctor on a table written the way soketi documents it', () => {
  let before: Awaited<ReturnType<typeof runCli>>;

  beforeAll(async () => {
    before = await runCli(table.name, ['doctor']);
  });

  it('fails, and names the table, region and endpoint it checked', () => {
    expect(before.code).toBe(1);
    expect(before.stderr).toContain(`table "${table.name}" in us-east-1 at http://127.0.0.1:`);
    expect(before.stdout).toMatch(
      /Checked 6 apps: 4 apps to fix \(run apps doctor --fix\), 2 apps this service cannot read\./,
    );
  });

  it("reads the seed's B booleans as soketi did and offers BOOL", () => {
    expect(before.stdout).toContain('[rewritten] Enabled: B "true" → BOOL true (both read true).');
    expect(before.stdout).toContain(
      '[rewritten] EnableClientMessages: B "false" → BOOL false (both read false).',
    );
  });

  it('reports the B and S booleans soketi read as true', () => {
    const differs = (attribute: string, stored: string) =>
      `[differs] ${attribute}: ${stored} → BOOL false: soketi read it as true, this service reads false.`;
    expect(blockOf(before.stdout, 'disabled')).toContain(differs('Enabled', 'B "false"'));
    expect(blockOf(before.stdout, 'limits')).toContain(differs('EnableUserAuthentication', 'B "false"'));
    expect(blockOf(before.stdout, 'strings')).toContain(differs('Enabled', 'S "false"'));
  });

  it('reports -1 in each of the seven limits: soketi refused everything, this service reads unlimited', () => {
    for (const attribute of ['MaxPresenceMembersPerChannel', 'MaxEventPayloadInKb', 'MaxEventBatchSize']) {
      expect(blockOf(before.stdout, 'limits')).toContain(
        `[differs] ${attribute}: N -1 (kept): soketi read it as a limit that refuses everything (its check was value > -1), this service reads unlimited.`,
      );
    }
  });

  it('reports broken Webhooks JSON and a webhook without event_types as unreadable, with the fix to run', () => {
    expect(before.stdout).toContain(
      '[unreadable] Webhooks: is not valid JSON; soketi read it as no webhooks. Set it with apps update broken-webhooks --webhooks <json>.',
    );
    expect(before.stdout).toMatch(/no-event-types \(key no-event-types-key\): this service cannot read it/);
    expect(before.stdout).toContain('[unreadable] Webhooks[0].event_types: must be a non-empty array');
  });

  it('never prints a secret or a webhook text', () => {
    for (const secret of SECRETS) expect(before.stdout + before.stderr).not.toContain(secret);
    expect(before.stdout).not.toContain('hooks.example');
  });

  describe('--fix', () => {
    let fixed: Awaited<ReturnType<typeof runCli>>;

    beforeAll(async () => {
      fixed = await runCli(table.name, ['doctor', '--fix']);
    });

    it('fixes the fixable items and leaves the unreadable ones reported', () => {
      expect(fixed.code).toBe(1);
      for (const id of FIXABLE)
        expect(fixed.stdout).toMatch(new RegExp(`^${id} \\(key [^)]+\\): fixed$`, 'm'));
      expect(fixed.stdout).toMatch(/Checked 6 apps: 4 apps fixed, 2 apps this service cannot read\./);
      expect(fixed.calls?.count('UpdateItemCommand')).toBe(FIXABLE.length);
    });

    it('rewrites them in canonical types: BOOL booleans, N numbers, Webhooks a JSON string', async () => {
      for (const id of FIXABLE) {
        const item = await stored(id);
        for (const attribute of ['Enabled', 'EnableClientMessages', 'EnableUserAuthentication']) {
          expect(Object.keys(item[attribute]!), `${id} ${attribute}`).toEqual(['BOOL']);
        }
        expect(Object.keys(item.MaxConnections!)).toEqual(['N']);
        expect(Object.keys(item.MaxBackendEventsPerSecond!)).toEqual(['N']);
        expect(Object.keys(item.Webhooks!)).toEqual(['S']);
      }
    });

    it("leaves each fixed item meaning to the resolver's parser exactly what the report said", async () => {
      for (const id of FIXABLE) {
        const app = parseAppItem(await stored(id));
        const readings = reportedReadings(before.stdout, id);
        expect(readings.size, id).toBeGreaterThan(0);
        for (const [attribute, reading] of readings) {
          expect(app[memberOf(attribute)], `${id} ${attribute}: ${reading}`).toEqual(readingValue(reading));
        }
      }
    });

    it('keeps the meanings this service read before the fix', async () => {
      expect(parseAppItem(await stored('app-id'))).toEqual(SEED_EXAMPLE_APP);
      expect(parseAppItem(await stored('disabled')).enabled).toBe(false);
      const limits = parseAppItem(await stored('limits'));
      expect(limits.enableUserAuthentication).toBe(false);
      for (const member of Object.keys(DEFAULT_APP_LIMITS) as (keyof typeof DEFAULT_APP_LIMITS)[]) {
        expect(limits[member], member).toBe(UNLIMITED);
      }
      expect(parseAppItem(await stored('strings'))).toMatchObject({
        enabled: false,
        enableClientMessages: true,
        enableUserAuthentication: false,
        maxConnections: UNLIMITED,
        maxBackendEventsPerSecond: 50,
      });
    });

    it('leaves only the unreadable items to report afterwards', async () => {
      const after = await runCli(table.name, ['doctor']);
      expect(after.code).toBe(1);
      expect(after.stdout).toMatch(
        /Checked 6 apps: 2 apps this service cannot read, 1 app read differently than soketi did \(this service's reading kept\)\./,
      );
      for (const id of FIXABLE.filter((id) => id !== 'limits')) {
        expect(after.stdout).not.toContain(`${id} (key`);
      }
      // -1 in the seven limits stays reported: soketi refused everything there, this service reads unlimited.
      expect(after.stdout).toMatch(
        /^limits \(key limits-key\): read differently than soketi did; this service's reading is kept, nothing to rewrite$/m,
      );
      expect(blockOf(after.stdout, 'limits').match(/\[differs\]/g)).toHaveLength(7);
    });

    it('is clean once the operator sets the unreadable webhooks and fixes again', async () => {
      const webhooks = '[{"url":"https://hooks.example/p","event_types":["channel_occupied"]}]';
      for (const id of ['broken-webhooks', 'no-event-types']) {
        const update = await runCli(table.name, ['update', id, '--webhooks', webhooks]);
        expect(update.code, update.stderr).toBe(0);
      }
      expect((await runCli(table.name, ['doctor', '--fix'])).code).toBe(0);
      const clean = await runCli(table.name, ['doctor']);
      expect(clean.code).toBe(0);
      expect(clean.stdout).toMatch(
        /\nChecked 6 apps: 1 app read differently than soketi did \(this service's reading kept\)\.\n$/,
      );
    });
  });
});

const LAMBDA_WEBHOOKS =
  '[{"lambda_function":"hook","lambda":{"async":true,"client_options":{"endpoint":"http://127.0.0.1:1"}},' +
  '"event_types":["channel_occupied"],"comment":"kept"}]';

describe('apps doctor on other data errors', () => {
  let other: AppsTestTable;

  beforeAll(async () => {
    other = await appsTestTable('cli-doctor-other');
    await other.put(
      appItem('first', { AppKey: { S: 'shared' } }),
      appItem('second', { AppKey: { S: 'shared' } }),
      { AppId: { S: 'no-secret' }, AppKey: { S: 'no-secret-key' } },
      appItem('alias', { max_connections: { N: '5' } }),
      appItem('zero-rate', { MaxBackendEventsPerSecond: { N: '0' } }),
      appItem('revoked', { enabled: { BOOL: false }, max_client_events_per_sec: { N: '5' } }),
      appItem('lambda-hook', { Webhooks: { S: LAMBDA_WEBHOOKS } }),
    );
  });

  afterAll(async () => {
    await other.drop();
  });

  it('reports keys shared by several apps, missing required fields and aliases soketi preferred', async () => {
    const run = await runCli(other.name, ['doctor']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /shared is shared by apps (first, second|second, first): this service refuses the key/,
    );
    expect(run.stdout).toContain('[unreadable] AppSecret: is missing');
    expect(run.stdout).toContain(
      "[differs] max_connections: N 5 → MaxConnections N 5, alias removed: soketi read this alias over MaxConnections (absent) as 5; this service ignores aliases and reads unlimited. --fix keeps soketi's reading.",
    );
    expect(run.stdout).toContain('[differs] Webhooks: this service ignores Webhooks[0].comment');
    expect(run.stdout).toContain('[warning] MaxBackendEventsPerSecond: 0 allows nothing');
  });

  it("--fix moves soketi's alias values into place, keeps webhooks and the 0 it warns about, leaves the data errors", async () => {
    expect((await runCli(other.name, ['doctor', '--fix'])).code).toBe(1);
    const after = await runCli(other.name, ['doctor']);
    expect(after.stdout).toMatch(
      /1 app this service cannot read, 1 key shared by several apps, 1 app read differently than soketi did \(this service's reading kept\), 1 warning\./,
    );
    const { GetItemCommand } = await import('@aws-sdk/client-dynamodb');
    const read = async (id: string) =>
      (await other.client.send(new GetItemCommand({ TableName: other.name, Key: { AppId: { S: id } } })))
        .Item!;
    const alias = await read('alias');
    expect(alias.max_connections).toBeUndefined();
    expect(parseAppItem(alias).maxConnections).toBe(5);
    const revoked = await read('revoked');
    expect(revoked.enabled).toBeUndefined();
    expect(revoked.max_client_events_per_sec).toBeUndefined();
    expect(parseAppItem(revoked)).toMatchObject({ enabled: false, maxClientEventsPerSecond: 5 });
    expect((await read('lambda-hook')).Webhooks).toEqual({ S: LAMBDA_WEBHOOKS });
  });
});

describe('apps doctor on an alias soketi read in a way this service cannot express', () => {
  let odd: AppsTestTable;

  beforeAll(async () => {
    odd = await appsTestTable('cli-doctor-manual');
    await odd.put(
      appItem('nan-rate', {
        MaxBackendEventsPerSecond: { N: '3' },
        max_backend_events_per_sec: { S: 'many' },
      }),
    );
  });

  afterAll(async () => {
    await odd.drop();
  });

  it('leaves the alias, says which command sets the value, and keeps failing until it is set', async () => {
    const fixed = await runCli(odd.name, ['doctor', '--fix']);
    expect(fixed.code).toBe(1);
    expect(fixed.stdout).toContain('fixed; some values need setting by hand, see below');
    expect(fixed.stdout).toContain('apps update nan-rate --max-backend-events-per-second <n|unlimited>');
    expect(fixed.stdout).toMatch(/Checked 1 app: 1 app fixed, 1 app with values to set by hand\./);
    const { GetItemCommand } = await import('@aws-sdk/client-dynamodb');
    const item = (
      await odd.client.send(new GetItemCommand({ TableName: odd.name, Key: { AppId: { S: 'nan-rate' } } }))
    ).Item!;
    expect(item.max_backend_events_per_sec).toEqual({ S: 'many' });
    expect(item.MaxBackendEventsPerSecond).toEqual({ N: '3' });
    expect((await runCli(odd.name, ['doctor'])).code).toBe(1);
    const update = await runCli(odd.name, ['update', 'nan-rate', '--max-backend-events-per-second', '7']);
    expect(update.code, update.stderr).toBe(0);
    const after = await runCli(odd.name, ['doctor']);
    expect(after).toMatchObject({ code: 0, stdout: 'Checked 1 app: no problems.\n' });
  });
});

describe('apps doctor on webhooks this stage cannot deliver', () => {
  let table: AppsTestTable;

  beforeAll(async () => {
    table = await appsTestTable('doctor-reach');
    const webhooks: App['webhooks'] = [
      { url: 'http://127.0.0.1:9/hook?token=s3cret', eventTypes: ['channel_occupied'] },
      { url: 'http://[::ffff:169.254.169.254]/latest', eventTypes: ['channel_occupied'] },
      { url: 'https://93.184.216.34/in', eventTypes: ['channel_occupied'] },
      { lambdaFunction: 'audit', eventTypes: ['client_event'] },
    ];
    await table.put(toAppItem(testApp('reach', { webhooks })));
  });

  afterAll(async () => {
    await table.drop();
  });

  const doctorWith = (rules: Record<string, string>) =>
    runCli(table.name, ['doctor'], {
      env: {
        APP_MANAGER_DYNAMODB_TABLE: table.name,
        APP_MANAGER_DYNAMODB_REGION: 'us-east-1',
        APP_MANAGER_DYNAMODB_ENDPOINT: dynamodbEndpoint(),
        ...rules,
      },
    });

  it('names each refused target by place and host, never its path, query or headers, and fails', async () => {
    const run = await doctorWith({});
    expect(run.code).toBe(1);
    const findings = run.stdout.split('\n').filter((line) => line.includes('[undeliverable]'));
    expect(findings).toEqual([
      expect.stringMatching(/Webhooks\[0\]: the host 127\.0\.0\.1 resolves to 127\.0\.0\.1, a loopback/),
      expect.stringMatching(/Webhooks\[1\]: the host ::ffff:a9fe:a9fe resolves to ::ffff:a9fe:a9fe/),
      expect.stringMatching(/Webhooks\[3\]: function audit is not one this stage may invoke/),
    ]);
    expect(run.stdout).toContain('3 webhooks this stage cannot deliver');
    expect(run.stdout + run.stderr).not.toContain('s3cret');
  });

  it('reports nothing the stage allows: a named function, private URLs when allowed', async () => {
    const run = await doctorWith({ WEBHOOKS_LAMBDA_FUNCTIONS: 'aud*', WEBHOOKS_ALLOW_PRIVATE_URLS: 'true' });
    expect(run.stdout).not.toContain('[undeliverable]');
    expect(run.stdout, run.stdout).toContain('no problems');
    expect(run.code).toBe(0);
  });
});
