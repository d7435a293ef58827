import type { AppItem } from '../../apps/parse-item.js';
import {
  AppNotFoundError,
  DuplicateAppKeyError,
  InvalidAppItemError,
  UsageError,
} from '../../errors/errors.js';
import { appRecordFromItem } from '../app-record.js';
import type { CommandContext } from '../context.js';
import { describeLimit, formatDetails, shownRecord, TableWriter } from '../display.js';
import { writeAndDrain } from '../io.js';
import { itemAsDynamoDbJson } from '../raw-item.js';

export interface GetOptions {
  readonly id: string | undefined;
  readonly key: string | undefined;
  readonly json: boolean;
  /** The item as stored, as DynamoDB JSON, even one this service cannot read. */
  readonly raw: boolean;
  readonly showSecret: boolean;
}

/** Attributes that hold credentials, left out of `get --raw` without `--show-secret`. */
const SECRET_ATTRIBUTES = ['AppSecret', 'secret', 'Webhooks', 'webhooks'];

/** One app by id (GetItem) or by key (the index), its secret hidden unless asked for. */
export async function getApp(context: CommandContext, options: GetOptions): Promise<number> {
  if ((options.id === undefined) === (options.key === undefined)) {
    throw new UsageError('Give an app id or --key <key>, not both.');
  }
  const item =
    options.id === undefined ? await itemByKey(context, options.key!) : await context.table.get(options.id);
  if (item === undefined) {
    throw new AppNotFoundError(
      options.id === undefined ? `An app with key ${options.key}` : `App ${options.id}`,
    );
  }
  if (options.raw) {
    const shown = options.showSecret
      ? item
      : Object.fromEntries(Object.entries(item).filter(([name]) => !SECRET_ATTRIBUTES.includes(name)));
    if (!options.showSecret) {
      context.stderr.write(
        'The secret and webhooks (which may hold credentials) are left out: --show-secret prints them.\n',
      );
    }
    context.stdout.write(`${JSON.stringify(itemAsDynamoDbJson(shown))}\n`);
    return 0;
  }
  const record = appRecordFromItem(item, context.limitDefaults);
  context.stdout.write(
    options.json
      ? `${JSON.stringify(shownRecord(record, options.showSecret))}\n`
      : formatDetails(record, options.showSecret, context.limitDefaults),
  );
  return 0;
}

async function itemByKey(context: CommandContext, key: string): Promise<AppItem | undefined> {
  const items = await context.table.itemsWithKey(key, 2);
  if (items.length > 1)
    throw new DuplicateAppKeyError(
      key,
      items.map((item) => item.AppId?.S ?? '?'),
    );
  return items[0];
}

export interface ListOptions {
  readonly json: boolean;
  readonly showSecret: boolean;
  /** Stop after this many apps. */
  readonly limit: number | undefined;
  /** Items per Scan request. */
  readonly pageSize: number;
}

const COLUMNS = ['ID', 'KEY', 'ENABLED', 'CLIENT EVENTS', 'USER AUTH', 'MAX CONNECTIONS', 'WEBHOOKS'];

/**
 * Every app, a Scan page at a time: a table for people, JSON lines for scripts. Items the service cannot
 * read are named on stderr, and make the exit code 1 once the rest are listed.
 */
export async function listApps(context: CommandContext, options: ListOptions): Promise<number> {
  const table = new TableWriter(context.stdout, options.showSecret ? [...COLUMNS, 'SECRET'] : COLUMNS);
  let listed = 0;
  let unreadable = 0;
  for await (const page of context.table.pages(options.pageSize)) {
    const rows: string[][] = [];
    for (const item of page) {
      if (options.limit !== undefined && listed >= options.limit) break;
      try {
        const record = appRecordFromItem(item, context.limitDefaults);
        listed += 1;
        if (options.json) {
          await writeAndDrain(context.stdout, `${JSON.stringify(shownRecord(record, options.showSecret))}\n`);
          continue;
        }
        const yesNo = (value: boolean) => (value ? 'yes' : 'no');
        rows.push([
          record.id,
          record.key,
          yesNo(record.enabled),
          yesNo(record.enableClientMessages),
          yesNo(record.enableUserAuthentication),
          describeLimit(record.maxConnections),
          String(record.webhooks.length),
          ...(options.showSecret ? [record.secret] : []),
        ]);
      } catch (error) {
        if (!(error instanceof InvalidAppItemError)) throw error;
        unreadable += 1;
        context.stderr.write(`${error.message}. Run "apps doctor" for details.\n`);
      }
    }
    if (!options.json) table.writePage(rows);
    if (options.limit !== undefined && listed >= options.limit) break;
  }
  if (listed === 0 && unreadable === 0 && !options.json) {
    context.stderr.write(`No apps in ${context.target.table}.\n`);
  }
  return unreadable > 0 ? 1 : 0;
}
