import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { FieldProblem } from '../errors/errors.js';
import { UsageError } from '../errors/errors.js';
import type { AppFields } from './app-record.js';
import type { CommandContext } from './context.js';
import { weakSecretWarning } from './credentials.js';
import {
  DESCRIPTIONS,
  flagOf,
  LIMIT_MEMBERS,
  SERVER_DEFAULT_LIMIT_MEMBERS,
  splitProblemPath,
} from './fields.js';
import { readFirstLine } from './io.js';

/** The options commander parsed for the app settings flags. */
export interface AppOptionValues {
  readonly id?: string;
  readonly key?: string;
  readonly secret?: string;
  readonly enabled?: boolean;
  readonly disabled?: boolean;
  readonly enableClientMessages?: boolean;
  readonly enableUserAuthentication?: boolean;
  readonly webhooks?: string;
  readonly [limit: string]: unknown;
}

/** Adds a flag for every app setting: `create` (with `--id`) and `update` take the same ones. */
export function addAppOptions(command: Command, { withId }: { withId: boolean }): Command {
  if (withId) command.option('--id <id>', DESCRIPTIONS.id);
  command
    .option('--key <key>', DESCRIPTIONS.key)
    .option('--secret <secret>', DESCRIPTIONS.secret)
    .addOption(new Option('--enabled', 'enable the app (the default for a new app)').conflicts('disabled'))
    .option('--disabled', 'disable the app: connections and API calls are refused')
    .option('--enable-client-messages', DESCRIPTIONS.enableClientMessages)
    .option('--no-enable-client-messages', 'refuse client-* events (the default)')
    .option('--enable-user-authentication', DESCRIPTIONS.enableUserAuthentication)
    .option('--no-enable-user-authentication', 'do not require pusher:signin (the default)');
  for (const member of LIMIT_MEMBERS) {
    const serverDefault = (SERVER_DEFAULT_LIMIT_MEMBERS as string[]).includes(member);
    command.addOption(
      new Option(
        `${flagOf(member)} <${serverDefault ? 'n|unlimited|default' : 'n|unlimited'}>`,
        `${DESCRIPTIONS[member]}${serverDefault ? ' (default: the server setting)' : ' (default: unlimited)'}`,
      ).argParser(limitParser(serverDefault)),
    );
  }
  return command.option('--webhooks <json|@file>', DESCRIPTIONS.webhooks);
}

/** The fields the flags give; `--secret -` and `--webhooks @FILE` are read here. */
export async function appFieldsFromOptions(
  options: AppOptionValues,
  context: CommandContext,
): Promise<AppFields> {
  const fields: Record<string, unknown> = {};
  for (const member of ['id', 'key', 'enableClientMessages', 'enableUserAuthentication'] as const) {
    if (options[member] !== undefined) fields[member] = options[member];
  }
  if (options.enabled) fields.enabled = true;
  if (options.disabled) fields.enabled = false;
  for (const member of LIMIT_MEMBERS) {
    const value = options[member];
    if (value !== undefined) fields[member] = value === SERVER_SETTING ? null : value;
  }
  if (options.secret !== undefined) fields.secret = await readSecret(options.secret, context);
  if (options.webhooks !== undefined) fields.webhooks = await readWebhooks(options.webhooks, context);
  return fields as AppFields;
}

/** A usage error listing each problem under the flag that set it. */
export function invalidOptionsError(problems: readonly FieldProblem[]): UsageError {
  const lines = problems.map((problem) => {
    const { member, rest } = splitProblemPath(problem.field);
    return `  ${member === undefined ? problem.field : `${flagOf(member)}${rest}`} ${problem.problem}`;
  });
  return new UsageError(`Invalid app settings:\n${lines.join('\n')}`);
}

// Commander turns a parsed null into '', so "back to the server setting" travels as this word.
const SERVER_SETTING = 'default';

function limitParser(serverDefault: boolean): (text: string) => number | typeof SERVER_SETTING {
  return (text) => {
    const word = text.trim().toLowerCase();
    if (word === 'unlimited' || word === '-1') return -1;
    if (serverDefault && word === SERVER_SETTING) return SERVER_SETTING;
    const number = Number(word);
    if (word === '' || !Number.isFinite(number) || number < 0) {
      throw new InvalidArgumentError(
        `Expected a number of at least 0, or -1 or "unlimited" for unlimited${serverDefault ? ', or "default"' : ''}.`,
      );
    }
    return number;
  };
}

/**
 * The secret from `--secret`, or from the first line of standard input with `--secret -`, taken as it is: the
 * item parser's rule (a non-empty string) is the only one, so that a soketi or Pusher secret can be copied.
 * A short one is stored with a warning.
 */
async function readSecret(value: string, context: CommandContext): Promise<string> {
  let secret = value;
  if (value === '-') {
    const line = await readFirstLine(context.stdin);
    if (line === undefined)
      throw new UsageError('--secret -: standard input ended before a line with the secret');
    secret = line;
  }
  const warning = weakSecretWarning(secret);
  if (warning !== undefined) context.stderr.write(`warning: ${warning}\n`);
  return secret;
}

async function readWebhooks(value: string, context: CommandContext): Promise<string> {
  if (!value.startsWith('@')) return value;
  const path = resolve(context.cwd, value.slice(1));
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `--webhooks: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
}
