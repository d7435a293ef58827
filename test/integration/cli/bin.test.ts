import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

function withoutSdkWarningSwitch(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: _switch, ...rest } = env;
  return rest;
}

describe('bin/apps.js', () => {
  it('runs the CLI in a real process: argv, environment, stdout and the exit code', async () => {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [BIN, 'create', '--id', 'spawned', '--json'],
      {
        env: { ...withoutSdkWarningSwitch(process.env), ...tableEnv(table.name) },
      },
    );
    expect(JSON.parse(stdout)).toMatchObject({ id: 'spawned', enabled: true });
    // The SDK's notice about future Node versions is not the operator's business here.
    expect(stderr).not.toContain('NodeVersionSupportWarning');
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

  it('says how to install tsx, without a stack trace, where it is missing', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'apps-bin-'));
    await mkdir(join(directory, 'bin'));
    await copyFile(BIN, join(directory, 'bin', 'apps.js'));
    await writeFile(join(directory, 'package.json'), '{"type":"module"}');
    const failure = await promisify(execFile)(process.execPath, [join(directory, 'bin', 'apps.js'), 'list'], {
      env: { ...process.env, ...tableEnv(table.name) },
    }).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 1 });
    const { stderr } = failure as { stderr: string };
    expect(stderr).toContain('npm ci');
    expect(stderr).not.toMatch(/\n\s+at /);
    await rm(directory, { recursive: true, force: true });
  });
});
