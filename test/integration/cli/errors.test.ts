import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type AppsTestTable, appsTestTable } from '../../fixtures/apps/apps-table.js';
import { appItem } from '../../fixtures/apps/items.js';
import { runCli, tableEnv } from '../../fixtures/cli/run-cli.js';
import {
  type AwsJsonProxy,
  closedPortEndpoint,
  DYNAMODB_FAULTS,
  startDynamoDbProxy,
} from '../../support/aws-json-proxy.js';
import { dynamodbEndpoint } from '../../support/dynamodb.js';

const STACK_FRAME = /^\s+at /m;
const COMMANDS = [
  'create',
  'get',
  'list',
  'update',
  'enable',
  'disable',
  'rotate-secret',
  'delete',
  'import',
  'export',
  'doctor',
  'create-table',
];

let table: AppsTestTable;

beforeAll(async () => {
  table = await appsTestTable('cli-errors');
  await table.put(appItem('present'));
});

afterAll(async () => {
  await table.drop();
});

describe('the environment', () => {
  it('reads only the variables the CLI needs: a bad Lambda-only one does not stop it', async () => {
    const run = await runCli(table.name, ['get', 'present'], {
      env: { ...tableEnv(table.name), APP_MANAGER_CACHE_TTL: 'abc', SOKETI_STATE_TABLE: '' },
    });
    expect(run.code, run.stderr).toBe(0);
  });

  it('still refuses a bad variable it does read', async () => {
    const run = await runCli(table.name, ['get', 'present'], {
      env: { ...tableEnv(table.name), EVENT_MAX_BATCH_SIZE: 'ten' },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('EVENT_MAX_BATCH_SIZE');
  });
});

describe('DynamoDB failures, explained with the table, region and endpoint', () => {
  it('a missing table: how to create it, or which variable to set', async () => {
    const run = await runCli('no-such-table', ['list']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `error: DynamoDB table "no-such-table" in us-east-1 at ${dynamodbEndpoint()} does not exist, or lacks its ` +
        'AppKeyIndex index. Create it with "apps create-table" (soketi\'s schema: hash key AppId, index AppKeyIndex ' +
        'on AppKey), deploy the stack that owns it, or set APP_MANAGER_DYNAMODB_TABLE and APP_MANAGER_DYNAMODB_REGION ' +
        '(or --table, --region) to the existing table.\n',
    );
  });

  it('create-table makes the missing table, after which it works', async () => {
    const name = `cli-created-${Date.now()}`;
    const created = await runCli(name, ['create-table']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain(
      `Created table ${name} in us-east-1: hash key AppId, index AppKeyIndex on AppKey`,
    );
    expect((await runCli(name, ['create', '--id', 'first'])).code).toBe(0);
    expect((await runCli(name, ['get', '--key', 'nope'])).code).toBe(1);
    const again = await runCli(name, ['create-table']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`table "${name}" in us-east-1 at ${dynamodbEndpoint()} already exists`);
  });

  it('an unreachable endpoint', async () => {
    const endpoint = await closedPortEndpoint();
    const run = await runCli(table.name, ['get', 'present'], {
      env: { ...tableEnv(table.name), APP_MANAGER_DYNAMODB_ENDPOINT: endpoint },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `error: Cannot reach DynamoDB at ${endpoint} for table "${table.name}" in us-east-1 at ${endpoint} (ECONNREFUSED). ` +
        'Check APP_MANAGER_DYNAMODB_ENDPOINT (or --endpoint), the region and the network.\n',
    );
  });

  describe('behind a proxy that answers AccessDeniedException', () => {
    let proxy: AwsJsonProxy;

    beforeAll(async () => {
      proxy = await startDynamoDbProxy(dynamodbEndpoint());
      proxy.setFault(DYNAMODB_FAULTS.accessDenied);
    });

    afterAll(async () => {
      await proxy.close();
    });

    it.each([
      [['list'], 'dynamodb:Scan on arn:aws:dynamodb:us-east-1:<account>:table/TABLE.'],
      [
        ['create'],
        'dynamodb:Query, dynamodb:PutItem on arn:aws:dynamodb:us-east-1:<account>:table/TABLE and its index table/TABLE/index/AppKeyIndex.',
      ],
      [['doctor'], 'dynamodb:Scan on arn:aws:dynamodb:us-east-1:<account>:table/TABLE.'],
      [
        ['doctor', '--fix'],
        'dynamodb:Scan, dynamodb:UpdateItem, dynamodb:GetItem on arn:aws:dynamodb:us-east-1:<account>:table/TABLE.',
      ],
      [
        ['update', 'present', '--disabled'],
        'dynamodb:GetItem, dynamodb:UpdateItem on arn:aws:dynamodb:us-east-1:<account>:table/TABLE.',
      ],
      [
        ['update', 'present', '--key', 'k2'],
        'dynamodb:GetItem, dynamodb:UpdateItem, dynamodb:Query on arn:aws:dynamodb:us-east-1:<account>:table/TABLE and its index table/TABLE/index/AppKeyIndex.',
      ],
      [
        ['import', '--dry-run', '-'],
        'dynamodb:Query, dynamodb:GetItem on arn:aws:dynamodb:us-east-1:<account>:table/TABLE and its index table/TABLE/index/AppKeyIndex.',
      ],
    ])('%j names the IAM actions it needs', async (argv, actions) => {
      const run = await runCli(table.name, argv, {
        env: { ...tableEnv(table.name), APP_MANAGER_DYNAMODB_ENDPOINT: proxy.endpoint },
        stdin: '{"id":"i","key":"k","secret":"s"}\n',
      });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        `error: Access denied to table "${table.name}" in us-east-1 at ${proxy.endpoint}:`,
      );
      expect(run.stderr).toContain(`This command needs ${actions.replaceAll('TABLE', table.name)}`);
    });

    it('import names the lines it did not import, so the same file can be run again', async () => {
      const lines = Array.from({ length: 12 }, (_, index) =>
        JSON.stringify({ id: `stopped-${index}`, key: `stopped-${index}-key`, secret: 's' }),
      );
      lines[3] = '{';
      const run = await runCli(table.name, ['import', '-'], {
        env: { ...tableEnv(table.name), APP_MANAGER_DYNAMODB_ENDPOINT: proxy.endpoint },
        stdin: `${lines.join('\n')}\n`,
      });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        'Stopped after 0 apps were imported. Not imported: lines 1-3, 5-12. Once the cause is fixed, ' +
          'import the whole file again: apps already imported identically count as imported.\n',
      );
    });
  });

  describe('without credentials', () => {
    afterEach(() => {
      vi.unstubAllEnvs();
    });

    it('says where credentials come from', async () => {
      // The SDK's default chain reads the process environment: leave it nothing to find.
      for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) {
        vi.stubEnv(name, undefined);
      }
      vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/aws/config');
      vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', '/nonexistent/aws/credentials');
      const run = await runCli(table.name, ['get', 'present']);
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        `error: No AWS credentials found to reach table "${table.name}" in us-east-1 at ${dynamodbEndpoint()}. ` +
          'Set AWS_PROFILE (or --profile), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where an IAM role ' +
          'is available. A local endpoint accepts any non-empty keys.\n',
      );
    });
  });

  it('shows no stack trace unless --debug', async () => {
    const plain = await runCli('no-such-table', ['list']);
    expect(plain.stderr).not.toMatch(STACK_FRAME);
    const debug = await runCli('no-such-table', ['list', '--debug']);
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/^ResourceNotFoundException: /m);
    expect(debug.stderr).toMatch(STACK_FRAME);
  });
});

describe('where the table is', () => {
  it('takes --table, --region and --endpoint over the environment', async () => {
    const run = await runCli(
      'ignored',
      ['get', 'present', '--table', table.name, '--region', 'us-east-1', '--endpoint', dynamodbEndpoint()],
      {
        env: { APP_MANAGER_DYNAMODB_TABLE: 'wrong', APP_MANAGER_DYNAMODB_ENDPOINT: 'http://127.0.0.1:9' },
      },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^id\s+present$/m);
  });

  it('reads the SOKETI_-prefixed variables too', async () => {
    const run = await runCli('ignored', ['get', 'present'], {
      env: {
        SOKETI_APP_MANAGER_DYNAMODB_TABLE: table.name,
        SOKETI_APP_MANAGER_DYNAMODB_ENDPOINT: dynamodbEndpoint(),
      },
    });
    expect(run.code, run.stderr).toBe(0);
  });

  it('refuses a bad endpoint variable or flag with exit code 2', async () => {
    const variable = await runCli(table.name, ['list'], {
      env: { APP_MANAGER_DYNAMODB_ENDPOINT: 'localhost:8000' },
    });
    expect(variable).toMatchObject({
      code: 2,
      stderr: 'error: APP_MANAGER_DYNAMODB_ENDPOINT: expected an http(s) URL, got "localhost:8000"\n',
    });
    const flag = await runCli(table.name, ['list', '--endpoint', 'nowhere']);
    expect(flag).toMatchObject({
      code: 2,
      stderr: 'error: --endpoint: expected an http(s) URL, got "nowhere"\n',
    });
  });
});

describe('usage', () => {
  it.each([
    [['frobnicate'], "error: unknown command 'frobnicate'"],
    [['list', '--colour'], "error: unknown option '--colour'"],
    [['update'], "error: missing required argument 'id'"],
    [
      ['list', '--limit', 'none'],
      "error: option '--limit <n>' argument 'none' is invalid. Expected a whole number of at least 1.",
    ],
    [
      ['create', '--max-connections', 'many'],
      "error: option '--max-connections <n|unlimited>' argument 'many' is invalid.",
    ],
    [['create', '--max-connections', '-5'], "argument '-5' is invalid"],
    [['delete', 'a', 'b'], "error: too many arguments for 'delete'"],
    [[], 'Usage: apps [options] [command]'],
  ])('%j exits 2 with a message and no DynamoDB call', async (argv, message) => {
    const run = await runCli(table.name, argv);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.calls).toBeUndefined();
  });

  it.each(COMMANDS)('%s --help prints its usage and the exit codes, exit 0', async (command) => {
    const run = await runCli(table.name, [command, '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Usage: apps ${command}`);
    expect(run.stdout).toContain('Exit codes: 0 success; 1 failure');
    expect(run.stdout).toContain('--table <name>');
  });

  it('documents every app setting on create and update', async () => {
    for (const command of ['create', 'update']) {
      const { stdout } = await runCli(table.name, [command, '--help']);
      for (const flag of [
        '--max-connections',
        '--max-event-batch-size',
        '--no-enable-client-messages',
        '--disabled',
        '--webhooks',
      ]) {
        expect(stdout, `${command} ${flag}`).toContain(flag);
      }
    }
  });
});
