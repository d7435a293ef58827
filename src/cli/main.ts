import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { loadConfig } from '../config/config.js';
import type { Env } from '../config/env.js';
import { ConfigError, UsageError } from '../errors/errors.js';
import { loadWebhookTargetRules } from '../webhooks/config.js';
import { type AppOptionValues, addAppOptions, appFieldsFromOptions } from './app-options.js';
import { AppsTable } from './apps-table.js';
import { rotateSecret, setEnabled, updateApp } from './commands/change.js';
import { createApp, createAppsTable } from './commands/create.js';
import { deleteApp } from './commands/delete.js';
import { doctor } from './commands/doctor.js';
import { getApp, listApps } from './commands/show.js';
import { exportApps, importApps } from './commands/transfer.js';
import type { CommandContext } from './context.js';
import type { RandomBytes } from './credentials.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './exit-codes.js';
import { type DynamoDbAction, explainFailure } from './failures.js';
import { SERVER_DEFAULT_VARIABLES } from './fields.js';
import type { InputStream, OutputStream } from './io.js';
import { createCliClient, resolveTarget, type TableTarget, type TargetOverrides } from './target.js';

export { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './exit-codes.js';

/** Everything the CLI touches outside itself; `bin/apps.js` passes the process's own. */
export interface CliDependencies {
  /** Read for `APP_MANAGER_DYNAMODB_*` (also `SOKETI_`-prefixed) and the server-default limits. */
  readonly env: Env;
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly stdin: InputStream;
  /** Builds the DynamoDB client; by default region, endpoint and profile from the target, credentials from the SDK's chain. */
  readonly createClient?: (target: TableTarget) => DynamoDBClient;
  /** Default `crypto.randomBytes`. */
  readonly randomBytes?: RandomBytes;
  /** Default `Date.now`. */
  readonly now?: () => number;
  /** Default `process.cwd()`. */
  readonly cwd?: string;
}

const EXIT_CODES_HELP = `
Exit codes: 0 success; 1 failure (DynamoDB error, no such app, an import line that failed, problems the
doctor found); 2 usage (bad flags or environment variables, a missing or wrong confirmation).
The table is APP_MANAGER_DYNAMODB_TABLE in APP_MANAGER_DYNAMODB_REGION (or AWS_REGION), at
APP_MANAGER_DYNAMODB_ENDPOINT if set; each also read with a SOKETI_ prefix. Credentials come from the AWS
SDK's default chain (environment, AWS_PROFILE or --profile, ~/.aws, an IAM role).`;

const SCRIPT_OUTPUT_HELP = `
Through npm, run "npm run --silent apps -- …" or "npx apps …" when you redirect the output: plain
"npm run apps -- … > file" writes npm's banner into the file.`;

const DOCTOR_HELP = `
--fix never rewrites a Webhooks string that reads correctly (members this service ignores, such as
lambda.client_options, stay as stored), keeps -1 in the seven server-default limits as unlimited (soketi
refused everything there: set 0 for that), and writes what soketi enforced from an alias such as enabled
or max_connections into the PascalCase attribute before removing the alias. Back up first with
"apps export --raw -o backup.jsonl".`;

const IMPORT_HELP = `
Each line is one app as JSON, as "apps export" writes it:
  {"id":"1234567890","key":"…","secret":"…","enabled":true,"enableClientMessages":false,
   "enableUserAuthentication":false,"maxConnections":-1,"maxBackendEventsPerSecond":-1,
   "maxClientEventsPerSecond":-1,"maxReadRequestsPerSecond":-1,"maxEventBatchSize":10,"webhooks":[]}
id, key and secret are required; a missing setting takes the create default, and a missing one of the
seven server-default limits (maxPresenceMembersPerChannel … maxEventBatchSize) follows the server's setting.
-1 or "unlimited" is unlimited; webhooks is soketi's Webhooks JSON (snake_case keys). Blank lines are skipped.
An app already stored exactly as its line describes counts as imported, so a stopped import can be run again.`;

interface RunState {
  exitCode: number;
  target: TableTarget | undefined;
  actions: readonly DynamoDbAction[];
  client: DynamoDBClient | undefined;
}

/**
 * Runs one `apps` command line (without the program name) and resolves to its exit code. Never throws
 * and never prints a stack trace unless `--debug` is given.
 */
export async function runAppsCli(argv: readonly string[], dependencies: CliDependencies): Promise<number> {
  const state: RunState = { exitCode: EXIT_OK, target: undefined, actions: [], client: undefined };
  const program = buildProgram(dependencies, state);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return state.exitCode;
  } catch (error) {
    // Commander has printed its own message (or the help) already.
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    dependencies.stderr.write(`error: ${explainFailure(error, state.target, state.actions)}\n`);
    if (argv.includes('--debug')) dependencies.stderr.write(`${debugText(error)}\n`);
    return error instanceof UsageError || error instanceof ConfigError ? EXIT_USAGE : EXIT_FAILURE;
  } finally {
    state.client?.destroy();
  }
}

type Handler = (context: CommandContext, options: Record<string, unknown>, args: string[]) => Promise<number>;
/** The DynamoDB operations a command calls with these options, for the IAM advice. */
type ActionsFor = (options: Record<string, unknown>) => readonly DynamoDbAction[];

function buildProgram(dependencies: CliDependencies, state: RunState): Command {
  const program = new Command('apps')
    .description("Manage the apps in the DynamoDB apps table (soketi's schema: AppId, index AppKeyIndex).")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => void dependencies.stdout.write(text),
      writeErr: (text) => void dependencies.stderr.write(text),
    })
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(add --help for usage)')
    .option('--table <name>', 'apps table (default: APP_MANAGER_DYNAMODB_TABLE, else "apps")')
    .option(
      '--region <region>',
      'its region (default: APP_MANAGER_DYNAMODB_REGION, AWS_REGION, else us-east-1)',
    )
    .option(
      '--endpoint <url>',
      'DynamoDB endpoint, for a local emulator (default: APP_MANAGER_DYNAMODB_ENDPOINT)',
    )
    .option('--profile <name>', 'AWS profile for credentials (default: the SDK chain)')
    .option('--debug', 'print stack traces of failures');

  const action =
    (actions: readonly DynamoDbAction[] | ActionsFor, handler: Handler) =>
    async (...args: unknown[]): Promise<void> => {
      const command = args.at(-1) as Command;
      state.actions = typeof actions === 'function' ? actions(command.opts()) : actions;
      const context = openContext(dependencies, state, command.optsWithGlobals<TargetOverrides>());
      state.exitCode = await handler(context, command.opts(), command.processedArgs as string[]);
    };

  addAppOptions(program.command('create').description('create an app; prints it with its secret'), {
    withId: true,
  })
    .option('--json', 'print the app as one JSON line')
    .action(
      action(['Query', 'PutItem'], async (context, options) =>
        createApp(context, {
          fields: await appFieldsFromOptions(options as AppOptionValues, context),
          json: options.json === true,
        }),
      ),
    );

  program
    .command('get')
    .description('show one app, by id or by --key; the secret hidden unless --show-secret')
    .argument('[id]', 'app id')
    .option('--key <key>', 'find the app by its key instead')
    .option('--json', 'print the app as one JSON line')
    .option('--raw', 'print the item as stored, as DynamoDB JSON, even one this service cannot read')
    .option(
      '--show-secret',
      'include the secret and webhook credentials (header values, URL user info and query values)',
    )
    .action(
      action(['GetItem', 'Query'], (context, options, [id]) =>
        getApp(context, {
          id,
          key: options.key as string | undefined,
          json: options.json === true,
          raw: options.raw === true,
          showSecret: options.showSecret === true,
        }),
      ),
    );

  program
    .command('list')
    .description('list the apps a Scan page at a time: a table, or JSON lines with --json')
    .option('--json', 'one JSON line per app, for scripts')
    .option(
      '--show-secret',
      'include secrets and webhook credentials (header values, URL user info and query values)',
    )
    .option('--limit <n>', 'stop after n apps', positiveInteger)
    .option('--page-size <n>', 'items per Scan request', positiveInteger, 100)
    .addHelpText('after', SCRIPT_OUTPUT_HELP)
    .action(
      action(['Scan'], (context, options) =>
        listApps(context, {
          json: options.json === true,
          showSecret: options.showSecret === true,
          limit: options.limit as number | undefined,
          pageSize: options.pageSize as number,
        }),
      ),
    );

  addAppOptions(
    program
      .command('update')
      .description('change the given settings of an app; the others stay')
      .argument('<id>', 'app id'),
    { withId: false },
  )
    .option('--json', 'print the app as one JSON line (secret hidden)')
    .action(
      action(
        (options) => ['GetItem', 'UpdateItem', ...(options.key === undefined ? [] : (['Query'] as const))],
        async (context, options, [id]) =>
          updateApp(context, id!, {
            fields: await appFieldsFromOptions(options as AppOptionValues, context),
            json: options.json === true,
          }),
      ),
    );

  for (const enabled of [true, false]) {
    program
      .command(enabled ? 'enable' : 'disable')
      .description(
        enabled ? 'let an app connect and publish again' : 'refuse the app’s connections and API calls',
      )
      .argument('<id>', 'app id')
      .action(action(['UpdateItem'], (context, _options, [id]) => setEnabled(context, id!, enabled)));
  }

  program
    .command('rotate-secret')
    .description('give an app a new random secret and print it, once')
    .argument('<id>', 'app id')
    .action(action(['UpdateItem'], (context, _options, [id]) => rotateSecret(context, id!)));

  program
    .command('delete')
    .description('delete an app, after typing its id on a terminal, or with --yes')
    .argument('<id>', 'app id')
    .option('-y, --yes', 'delete without asking')
    .action(
      action(['GetItem', 'DeleteItem'], (context, options, [id]) =>
        deleteApp(context, id!, options.yes === true),
      ),
    );

  program
    .command('import')
    .description('create apps from JSON lines; bad lines are reported by number and the rest imported')
    .argument('<file>', 'JSON lines file, or - for standard input')
    .option('--dry-run', 'check every line against the table without writing')
    .option(
      '--overwrite',
      'replace apps whose id exists, naming each (default: such lines fail); with --dry-run, lists them',
    )
    .addHelpText('after', IMPORT_HELP)
    .action(
      action(
        (options) => ['Query', 'GetItem', ...(options.dryRun === true ? [] : (['PutItem'] as const))],
        (context, options, [file]) =>
          importApps(context, {
            file: file!,
            dryRun: options.dryRun === true,
            overwrite: options.overwrite === true,
          }),
      ),
    );

  program
    .command('export')
    .description('write every app, secrets included, as JSON lines that import reads back')
    .option('-o, --output <file>', 'write to this new file (created owner-only) instead of standard output')
    .option('--force', 'with -o, replace an existing file (the new one is owner-only too)')
    .option(
      '--raw',
      'every item as stored, as DynamoDB JSON (for the AWS CLI), unreadable ones included: a backup before doctor --fix',
    )
    .addHelpText('after', SCRIPT_OUTPUT_HELP)
    .action(
      action(['Scan'], (context, options) =>
        exportApps(context, {
          output: options.output as string | undefined,
          force: options.force === true,
          raw: options.raw === true,
        }),
      ),
    );

  program
    .command('doctor')
    .description('report items this service reads differently than soketi did, or cannot read')
    .option(
      '--fix',
      "rewrite fixable items in canonical types, keeping this service's reading, or soketi's where soketi read an alias",
    )
    .addHelpText('after', DOCTOR_HELP)
    .option('--page-size <n>', 'items per Scan request', positiveInteger, 100)
    .action(
      // --fix reads an item back when its conditional update fails.
      action(
        (options) => ['Scan', ...(options.fix === true ? (['UpdateItem', 'GetItem'] as const) : [])],
        (context, options) =>
          doctor(context, { fix: options.fix === true, pageSize: options.pageSize as number }),
      ),
    );

  program
    .command('create-table')
    .description("create the apps table with soketi's schema (on-demand capacity)")
    .action(action(['CreateTable', 'DescribeTable'], (context) => createAppsTable(context)));

  for (const command of [program, ...program.commands]) command.addHelpText('after', EXIT_CODES_HELP);
  return program;
}

function openContext(
  dependencies: CliDependencies,
  state: RunState,
  overrides: TargetOverrides,
): CommandContext {
  const config = loadConfig(cliVariables(dependencies.env));
  const target = resolveTarget(config.appStore, overrides);
  state.target = target;
  const client = (dependencies.createClient ?? createCliClient)(target);
  state.client = client;
  return {
    target,
    table: new AppsTable(client, target.table),
    limitDefaults: config.appLimitDefaults,
    webhookRules: loadWebhookTargetRules(cliVariables(dependencies.env)),
    stdout: dependencies.stdout,
    stderr: dependencies.stderr,
    stdin: dependencies.stdin,
    randomBytes: dependencies.randomBytes ?? cryptoRandomBytes,
    now: dependencies.now ?? Date.now,
    cwd: dependencies.cwd ?? process.cwd(),
  };
}

/** The variables the Lambdas alone read are left out, so a bad one of those cannot stop the CLI. */
const CLI_VARIABLES = [
  'APP_MANAGER_DYNAMODB_TABLE',
  'APP_MANAGER_DYNAMODB_REGION',
  'APP_MANAGER_DYNAMODB_ENDPOINT',
  ...Object.values(SERVER_DEFAULT_VARIABLES),
  'WEBHOOKS_ALLOW_PRIVATE_URLS',
  'WEBHOOKS_LAMBDA_FUNCTIONS',
];

function cliVariables(env: Env): Env {
  const names = ['AWS_REGION', ...CLI_VARIABLES.flatMap((name) => [name, `SOKETI_${name}`])];
  return Object.fromEntries(names.filter((name) => env[name] !== undefined).map((name) => [name, env[name]]));
}

function positiveInteger(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new InvalidArgumentError('Expected a whole number of at least 1.');
  return value;
}

/** The stack and the chain of causes, for --debug. */
function debugText(error: unknown): string {
  const lines: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth += 1) {
    lines.push(current instanceof Error ? (current.stack ?? String(current)) : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return lines.join('\ncaused by: ');
}
