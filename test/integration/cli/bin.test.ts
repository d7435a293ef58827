import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAppItem } from '../../../src/apps/parse-item.js';
import { type AppsTestTable, appsTestTable } from '../../fixtures/apps/apps-table.js';
import { tableEnv } from '../../fixtures/cli/run-cli.js';

const BIN = fileURLToPath(new URL('../../../bin/apps.js', import.meta.url));

let table: AppsTestTable;

beforeAll(async () => {
  table = await appsTestTable('cli-bin');
});

afterAll(async () => {
  await table.drop();
});

describe('bin/apps.js', () => {
  it('runs the CLI in a real process: argv, environment, stdout and the exit code', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [BIN, 'create', '--id', 'spawned', '--json'],
      {
        env: { ...process.env, ...tableEnv(table.name) },
      },
    );
    expect(JSON.parse(stdout)).toMatchObject({ id: 'spawned', enabled: true });
    const { GetItemCommand } = await import('@aws-sdk/client-dynamodb');
    const output = await table.client.send(
      new GetItemCommand({ TableName: table.name, Key: { AppId: { S: 'spawned' } } }),
    );
    expect(parseAppItem(output.Item!).secret).toBe(JSON.parse(stdout).secret);

    const failure = await promisify(execFile)(process.execPath, [BIN, 'get', 'nobody'], {
      env: { ...process.env, ...tableEnv(table.name) },
    }).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stderr: string }).stderr).toContain('error: App nobody does not exist.');
  });
});
