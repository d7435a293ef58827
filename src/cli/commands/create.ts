import { AppAlreadyExistsError, AppKeyInUseError } from '../../errors/errors.js';
import { invalidOptionsError } from '../app-options.js';
import { type AppFields, appRecordFromItem, buildAppItem, withNewAppDefaults } from '../app-record.js';
import type { CommandContext } from '../context.js';
import { generateAppId, generateAppKey, generateAppSecret } from '../credentials.js';
import { formatDetails } from '../display.js';

/** Tries with fresh generated ids before giving up; a collision in 9e9 ids is already rare. */
const GENERATED_ID_ATTEMPTS = 3;

export interface CreateOptions {
  readonly fields: AppFields;
  readonly json: boolean;
}

/**
 * Writes a new app: id, key and secret generated unless given, every other setting from the flags or the
 * defaults. Refuses a taken id (conditional put) and a key another app uses (index query first).
 * Prints the app with its secret, once.
 */
export async function createApp(context: CommandContext, options: CreateOptions): Promise<number> {
  const { randomBytes, table } = context;
  for (let attempt = 1; ; attempt += 1) {
    const fields = withNewAppDefaults({
      id: generateAppId(randomBytes),
      key: generateAppKey(randomBytes),
      secret: generateAppSecret(randomBytes),
      ...options.fields,
    });
    const built = buildAppItem({}, fields, context.limitDefaults);
    if (!built.ok) throw invalidOptionsError(built.problems);
    const { id, key } = built.app;
    const others = await table.otherAppsWithKey(key);
    if (others.length > 0) throw new AppKeyInUseError(key, others);
    try {
      await table.create(built.item);
    } catch (error) {
      const retry = error instanceof AppAlreadyExistsError && options.fields.id === undefined;
      if (retry && attempt < GENERATED_ID_ATTEMPTS) continue;
      throw error;
    }
    const record = appRecordFromItem(built.item, context.limitDefaults);
    if (options.json) {
      context.stdout.write(`${JSON.stringify(record)}\n`);
    } else {
      context.stdout.write(`Created app ${id} in ${context.target.table}.\n`);
      context.stdout.write(formatDetails(record, true, context.limitDefaults));
    }
    return 0;
  }
}

/** `create-table`: the apps table with soketi's schema, on demand, for a new deployment or a local emulator. */
export async function createAppsTable(context: CommandContext): Promise<number> {
  await context.table.createTable();
  context.stdout.write(
    `Created table ${context.target.table} in ${context.target.region}: hash key AppId, index AppKeyIndex on AppKey, on-demand capacity.\n`,
  );
  return 0;
}
