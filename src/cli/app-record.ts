import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { App } from '../apps/app.js';
import { isPossibleAppIdentifier } from '../apps/identifier.js';
import { type AppItem, isAbsent, parseAppItem, toAppItem } from '../apps/parse-item.js';
import { type AppLimitDefaults, DEFAULT_APP_LIMITS } from '../config/config.js';
import { type FieldProblem, InvalidAppItemError } from '../errors/errors.js';
import {
  APP_MEMBERS,
  type AppMember,
  ATTRIBUTES,
  BOOLEAN_DEFAULTS,
  BOOLEAN_MEMBERS,
  type BooleanMember,
  type IdentityMember,
  LIMIT_MEMBERS,
  SERVER_DEFAULT_LIMIT_MEMBERS,
  type ServerDefaultLimitMember,
  splitProblemPath,
  WRITTEN_LIMIT_MEMBERS,
  type WrittenLimitMember,
} from './fields.js';

/**
 * One app as the CLI reads and writes it in JSON (`export`, `import`, `--json`): the `App` members in
 * camelCase, `-1` for unlimited, and `webhooks` in soketi's snake_case JSON (as stored in `Webhooks`).
 * The seven server-default limits appear only when the item sets them.
 */
export type AppRecord = { [M in IdentityMember]: string } & { [M in BooleanMember]: boolean } & {
  [M in WrittenLimitMember]: number;
} & { [M in ServerDefaultLimitMember]?: number } & { webhooks: unknown[] };

/**
 * Values for some members, from flags or a JSON line. A limit below zero is unlimited; `null` puts a
 * server-default limit back on the server's setting. `webhooks` is soketi's JSON: a string holds its text.
 */
export type AppFields = { [M in IdentityMember]?: string } & { [M in BooleanMember]?: boolean } & {
  [M in WrittenLimitMember]?: number;
} & { [M in ServerDefaultLimitMember]?: number | null } & { webhooks?: unknown };

export type BuildResult =
  | {
      readonly ok: true;
      readonly app: App;
      /** The canonical value of every attribute the fields gave. */
      readonly set: AppItem;
      /** Attributes to delete (limits put back on the server default). */
      readonly remove: readonly string[];
      /** The whole item after the change. */
      readonly item: AppItem;
    }
  | {
      readonly ok: false;
      /** Problems with what the fields gave (or left out of a new item), by attribute. */
      readonly problems: readonly FieldProblem[];
      /** Problems the item already had in attributes the fields did not touch. */
      readonly otherProblems: readonly FieldProblem[];
    };

const MAX_CONNECTIONS_ZERO =
  "cannot be 0, which soketi's schema reads as unlimited; use -1 for unlimited, or disable the app";
const BAD_IDENTIFIER = 'must be 1 to 256 characters without spaces, control characters, / ? # or %';
// Ids and keys travel in URL paths (/apps/{id}/events, /app/{key}).
const URL_BREAKING = /[\s/?#%]/u;

/**
 * Applies `fields` to `base` (an existing item, or `{}` for a new app) and checks the result with the
 * resolver's own parser. On success `set` holds the canonical encoding (`toAppItem`: BOOL, N, Webhooks as
 * a JSON string) of exactly the attributes the fields gave; every other attribute of `base` stays as it is.
 */
export function buildAppItem(
  base: AppItem,
  fields: AppFields,
  defaults: AppLimitDefaults = DEFAULT_APP_LIMITS,
): BuildResult {
  const raw: AppItem = { ...base };
  const given = new Set<string>();
  const remove: string[] = [];
  const problems: FieldProblem[] = [];
  for (const member of APP_MEMBERS) {
    const value = fields[member];
    if (value === undefined) continue;
    const attribute = ATTRIBUTES[member];
    given.add(attribute);
    if (value === null) {
      delete raw[attribute];
      remove.push(attribute);
    } else {
      raw[attribute] = rawAttribute(member, value);
    }
  }
  for (const member of ['id', 'key'] as const) {
    const value = fields[member];
    // An empty one is the parser's to report.
    if (value && (!isPossibleAppIdentifier(value) || URL_BREAKING.test(value))) {
      problems.push({ field: ATTRIBUTES[member], problem: BAD_IDENTIFIER });
    }
  }
  if (fields.maxConnections === 0)
    problems.push({ field: ATTRIBUTES.maxConnections, problem: MAX_CONNECTIONS_ZERO });

  let app: App | undefined;
  try {
    app = parseAppItem(raw, defaults);
  } catch (error) {
    if (!(error instanceof InvalidAppItemError)) throw error;
    problems.push(...error.problems);
  }
  if (app === undefined || problems.length > 0) {
    const isOwn = (problem: FieldProblem) => {
      const { member } = splitProblemPath(problem.field);
      const attribute = member === undefined ? problem.field : ATTRIBUTES[member];
      return given.has(attribute) || base[attribute] === undefined;
    };
    return {
      ok: false,
      problems: problems.filter(isOwn),
      otherProblems: problems.filter((problem) => !isOwn(problem)),
    };
  }
  const canonical = toAppItem(app);
  const set: AppItem = {};
  for (const attribute of given) {
    if (!remove.includes(attribute)) set[attribute] = canonical[attribute]!;
  }
  const item: AppItem = { ...raw, ...set };
  return { ok: true, app, set, remove, item };
}

/** The fields of a new app: the given ones over the defaults (enabled, no client messages, unlimited). */
export function withNewAppDefaults(fields: AppFields): AppFields {
  return {
    ...BOOLEAN_DEFAULTS,
    ...Object.fromEntries(WRITTEN_LIMIT_MEMBERS.map((member) => [member, -1])),
    webhooks: [],
    ...definedOnly(fields),
  };
}

/**
 * The item as the CLI would write it: `toAppItem` of what the resolver reads, the server-default limits
 * still absent where they were. Attributes the service does not read are left out. Throws
 * `InvalidAppItemError` for an item the resolver cannot read.
 */
export function canonicalAppItem(item: AppItem, defaults: AppLimitDefaults = DEFAULT_APP_LIMITS): AppItem {
  const canonical = toAppItem(parseAppItem(item, defaults));
  for (const member of SERVER_DEFAULT_LIMIT_MEMBERS) {
    if (isAbsent(item[ATTRIBUTES[member]])) delete canonical[ATTRIBUTES[member]];
  }
  return canonical;
}

/** The JSON record of a stored item. Throws `InvalidAppItemError` for an item the resolver cannot read. */
export function appRecordFromItem(item: AppItem, defaults: AppLimitDefaults = DEFAULT_APP_LIMITS): AppRecord {
  const canonical = canonicalAppItem(item, defaults);
  const text = (member: IdentityMember) => canonical[ATTRIBUTES[member]]!.S!;
  const record: Record<string, unknown> = { id: text('id'), key: text('key'), secret: text('secret') };
  for (const member of BOOLEAN_MEMBERS) record[member] = canonical[ATTRIBUTES[member]]!.BOOL;
  for (const member of LIMIT_MEMBERS) {
    const value = canonical[ATTRIBUTES[member]];
    if (value !== undefined) record[member] = Number(value.N);
  }
  record.webhooks = JSON.parse(canonical.Webhooks!.S!);
  return record as AppRecord;
}

/**
 * Reads one parsed JSON line into fields, checking each member's JSON type: `fields` holds the members
 * that passed, `problems` the others, named by member. Values are not quoted here; the parser quotes only
 * non-secret ones (numbers, event types, header names), never a secret, a header value or a URL.
 * `null` counts as absent.
 */
export function appFieldsFromJson(value: unknown): { fields: AppFields; problems: FieldProblem[] } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { fields: {}, problems: [{ field: '', problem: 'not a JSON object' }] };
  }
  const fields: Record<string, unknown> = {};
  const problems: FieldProblem[] = [];
  for (const [name, member] of Object.entries(value)) {
    if (!(APP_MEMBERS as string[]).includes(name)) {
      problems.push({ field: name, problem: `is not an app field (fields: ${APP_MEMBERS.join(', ')})` });
    } else if (member !== null) {
      const read = readJsonMember(name as AppMember, member);
      if (read.problem === undefined) fields[name] = read.value;
      else problems.push({ field: name, problem: read.problem });
    }
  }
  return { fields: fields as AppFields, problems };
}

function readJsonMember(member: AppMember, value: unknown): { value?: unknown; problem?: string } {
  if (member === 'webhooks') return { value };
  if (member === 'id' || member === 'key' || member === 'secret') {
    return typeof value === 'string' ? { value } : { problem: 'must be a string' };
  }
  if ((BOOLEAN_MEMBERS as string[]).includes(member)) {
    return typeof value === 'boolean' ? { value } : { problem: 'must be true or false' };
  }
  if (value === 'unlimited') return { value: -1 };
  return typeof value === 'number' ? { value } : { problem: 'must be a number, -1 or "unlimited"' };
}

function rawAttribute(member: AppMember, value: unknown): AttributeValue {
  if (member === 'webhooks') return { S: typeof value === 'string' ? value : JSON.stringify(value) };
  if (typeof value === 'boolean') return { BOOL: value };
  if (typeof value === 'number') return { N: String(value) };
  return { S: String(value) };
}

function definedOnly(fields: AppFields): AppFields {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}
