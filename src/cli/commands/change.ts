import type { AppItem } from '../../apps/parse-item.js';
import { AppKeyInUseError, AppNotFoundError, InvalidAppItemError, UsageError } from '../../errors/errors.js';
import { invalidOptionsError } from '../app-options.js';
import { type AppFields, appRecordFromItem, buildAppItem } from '../app-record.js';
import { type CommandContext, cacheNote } from '../context.js';
import { generateAppSecret } from '../credentials.js';
import { formatDetails, shownRecord } from '../display.js';
import { presentAliases } from '../doctor/soketi-reading.js';
import {
  APP_MEMBERS,
  BOOLEAN_MEMBERS,
  type BooleanMember,
  LIMIT_MEMBERS,
  type LimitMember,
} from '../fields.js';

export interface UpdateOptions {
  readonly fields: AppFields;
  readonly json: boolean;
}

/**
 * Changes only the given settings of an existing app, each written in its canonical type, removing
 * soketi's aliases of those settings (\`enabled\`, \`max_connections\`, ...); every other attribute stays as
 * stored. The result must be an item the service can read: problems in untouched
 * attributes are named so they can be fixed in the same call.
 */
export async function updateApp(
  context: CommandContext,
  id: string,
  options: UpdateOptions,
): Promise<number> {
  const given = APP_MEMBERS.filter((member) => options.fields[member] !== undefined);
  if (given.length === 0)
    throw new UsageError('Nothing to change: give at least one setting (see apps update --help).');
  const existing = await context.table.get(id);
  if (existing === undefined) throw new AppNotFoundError(`App ${id}`);
  const built = buildAppItem(existing, options.fields, context.limitDefaults);
  if (!built.ok) {
    if (built.problems.length > 0) throw invalidOptionsError(built.problems);
    throw new InvalidAppItemError(id, built.otherProblems);
  }
  const key = built.app.key;
  if (key !== existing.AppKey?.S) {
    const others = await context.table.otherAppsWithKey(key, id);
    if (others.length > 0) throw new AppKeyInUseError(key, others);
  }
  // The operator has now said what the value is: soketi's aliases of it would only contradict it.
  const aliases = given
    .filter(
      (member) =>
        (BOOLEAN_MEMBERS as string[]).includes(member) || (LIMIT_MEMBERS as string[]).includes(member),
    )
    .flatMap((member) => presentAliases(existing, member as BooleanMember | LimitMember));
  await change(context, id, built.set, [...built.remove, ...aliases]);
  const record = appRecordFromItem(built.item, context.limitDefaults);
  if (options.json) {
    context.stdout.write(`${JSON.stringify(shownRecord(record, false))}\n`);
  } else {
    context.stdout.write(`Updated app ${id}: ${given.join(', ')}.\n`);
    context.stdout.write(formatDetails(record, false, context.limitDefaults));
  }
  context.stderr.write(`${cacheNote('the previous settings')}\n`);
  return 0;
}

/** `enable` and `disable`: sets `Enabled` alone, so even an app with other broken settings can be switched off. */
export async function setEnabled(context: CommandContext, id: string, enabled: boolean): Promise<number> {
  await change(context, id, { Enabled: { BOOL: enabled } });
  context.stdout.write(`App ${id} is ${enabled ? 'enabled' : 'disabled'}.\n`);
  context.stderr.write(`${cacheNote(`it ${enabled ? 'disabled' : 'enabled'}`)}\n`);
  return 0;
}

/** Replaces the secret with a new random one and prints it, alone on stdout, this once. */
export async function rotateSecret(context: CommandContext, id: string): Promise<number> {
  const secret = generateAppSecret(context.randomBytes);
  await change(context, id, { AppSecret: { S: secret } });
  context.stderr.write(`New secret of app ${id} (shown this once; "apps get" hides it):\n`);
  context.stdout.write(`${secret}\n`);
  context.stderr.write(`${cacheNote('accepting the old secret')}\n`);
  return 0;
}

async function change(context: CommandContext, id: string, set: AppItem, remove: readonly string[] = []) {
  const outcome = await context.table.change(id, { set, remove });
  if (outcome === 'missing') throw new AppNotFoundError(`App ${id}`);
}
