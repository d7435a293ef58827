import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { type App, type AppLimitDefaults, DEFAULT_APP_LIMITS } from '../../apps/app.js';
import { type AppItem, parseAppItem } from '../../apps/parse-item.js';
import { InvalidAppItemError } from '../../errors.js';
import { canonicalAppItem, isAbsent } from '../app-record.js';
import type { ItemChange } from '../apps-table.js';
import { describeLimit } from '../display.js';
import {
  APP_MEMBERS,
  ATTRIBUTES,
  BOOLEAN_MEMBERS,
  type BooleanMember,
  flagOf,
  LIMIT_MEMBERS,
  type LimitMember,
  SERVER_DEFAULT_LIMIT_MEMBERS,
  splitProblemPath,
} from '../fields.js';
import {
  NOTHING_ALLOWED,
  presentAliases,
  SERVER_DEFAULT,
  type SoketiReading,
  soketiBoolean,
  soketiLimit,
} from './soketi-reading.js';

/**
 * - `unreadable`: this service refuses the item; `--fix` cannot guess a meaning for it.
 * - `differs`: this service reads the item differently than soketi did.
 * - `rewritten`: stored in a type the CLI does not write, read the same by both; `--fix` rewrites it.
 * - `warning`: valid and read alike, but probably not meant (a limit of 0). Never fails the check.
 */
export type FindingKind = 'unreadable' | 'differs' | 'rewritten' | 'warning';

export interface Finding {
  readonly attribute: string;
  readonly kind: FindingKind;
  readonly text: string;
}

export interface Diagnosis {
  readonly id: string;
  readonly key: string | undefined;
  readonly findings: readonly Finding[];
  /** The rewrite into canonical types that keeps this service's reading; undefined when none is needed or possible. */
  readonly fix: ItemChange | undefined;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const PRINTABLE = /^[\p{L}\p{N}\p{P}\p{Zs}]*$/u;
const SHOWN_TEXT_LIMIT = 40;

const SUBJECTS: Partial<Record<LimitMember, string>> = {
  maxBackendEventsPerSecond: 'published event',
  maxClientEventsPerSecond: 'client event',
  maxReadRequestsPerSecond: 'read request',
  maxPresenceMembersPerChannel: 'presence member',
  maxPresenceMemberSizeInKb: 'presence member with user info',
  maxChannelNameLength: 'channel name',
  maxEventChannelsAtOnce: 'event with a channel',
  maxEventNameLength: 'event name',
  maxEventPayloadInKb: 'event with data',
  maxEventBatchSize: 'batch with an event',
};

/**
 * Compares how this service and soketi read one item. An item already in canonical form (what the CLI
 * writes: `toAppItem`, every boolean and always-written limit present) is this service's own and is not
 * compared with soketi; `-1` in it means unlimited, as everywhere here. Secrets and webhook texts are
 * never quoted.
 */
export function diagnoseItem(item: AppItem, defaults: AppLimitDefaults = DEFAULT_APP_LIMITS): Diagnosis {
  const id = item.AppId?.S ?? '(no AppId)';
  const key = item.AppKey?.S;
  let canonical: AppItem;
  let app: App;
  try {
    canonical = canonicalAppItem(item, defaults);
    app = parseAppItem(item, defaults);
  } catch (error) {
    if (!(error instanceof InvalidAppItemError)) throw error;
    const findings = error.problems.map((problem) => ({
      attribute: problem.field,
      kind: 'unreadable' as const,
      text: `${problem.problem}${soketiNoteForUnreadable(item, id, problem.field)}`,
    }));
    return { id, key, findings, fix: undefined };
  }

  const changed = APP_MEMBERS.map((member) => ATTRIBUTES[member]).filter(
    (attribute) => !sameValue(item[attribute], canonical[attribute]),
  );
  const aliases = [...BOOLEAN_MEMBERS, ...LIMIT_MEMBERS].flatMap((member) => presentAliases(item, member));
  const findings: Finding[] = [];
  if (changed.length > 0 || aliases.length > 0) {
    for (const member of [...BOOLEAN_MEMBERS, ...LIMIT_MEMBERS]) {
      const finding = compareWithSoketi(item, canonical, app, member, changed);
      if (finding) findings.push(finding);
    }
    if (changed.includes(ATTRIBUTES.webhooks)) {
      findings.push({
        attribute: ATTRIBUTES.webhooks,
        kind: 'rewritten',
        text: `${stored(ATTRIBUTES.webhooks, item.Webhooks)} → S (the same webhooks as canonical JSON)`,
      });
    }
  }
  findings.push(...zeroLimitWarnings(item, app));

  const fix =
    changed.length > 0 || aliases.length > 0
      ? {
          set: Object.fromEntries(
            changed.filter((attribute) => canonical[attribute] !== undefined).map((a) => [a, canonical[a]!]),
          ),
          remove: [...changed.filter((attribute) => canonical[attribute] === undefined), ...aliases],
          expect: Object.fromEntries(
            [...changed, ...aliases].map((attribute) => [attribute, item[attribute]]),
          ),
        }
      : undefined;
  return { id, key, findings, fix };
}

/** One finding per key that several apps share: the resolver refuses such a key. */
export function sharedKeyFindings(idsByKey: ReadonlyMap<string, readonly string[]>): Finding[] {
  return [...idsByKey]
    .filter(([, ids]) => ids.length > 1)
    .map(([key, ids]) => ({
      attribute: ATTRIBUTES.key,
      kind: 'unreadable' as const,
      text:
        `${key} is shared by apps ${ids.join(', ')}: this service refuses the key (soketi picked one of ` +
        'the apps at random). Give each app its own key: apps update <id> --key <new key>.',
    }));
}

function compareWithSoketi(
  item: AppItem,
  canonical: AppItem,
  app: App,
  member: BooleanMember | LimitMember,
  changed: readonly string[],
): Finding | undefined {
  const attribute = ATTRIBUTES[member];
  const soketi: SoketiReading = (BOOLEAN_MEMBERS as string[]).includes(member)
    ? soketiBoolean(item, member as BooleanMember)
    : soketiLimit(item, member as LimitMember);
  const ours = ourMeaning(item, app, member);
  const rewrite = changed.includes(attribute)
    ? `${stored(attribute, item[attribute])} → ${stored(attribute, canonical[attribute])}`
    : `${stored(attribute, item[attribute])} (kept)`;
  if (soketi.source !== attribute) {
    return {
      attribute,
      kind: 'differs',
      text:
        `${rewrite}, alias ${soketi.source} removed: soketi read the alias instead, as ${soketi.meaning}; ` +
        `this service ignores aliases and reads ${ours}.`,
    };
  }
  if (soketi.meaning !== ours) {
    return {
      attribute,
      kind: 'differs',
      text: `${rewrite}: soketi read it as ${soketi.meaning}, this service reads ${ours}.`,
    };
  }
  if (changed.includes(attribute)) {
    return { attribute, kind: 'rewritten', text: `${rewrite} (both read ${ours}).` };
  }
  return undefined;
}

function ourMeaning(item: AppItem, app: App, member: BooleanMember | LimitMember): string {
  if ((BOOLEAN_MEMBERS as string[]).includes(member)) return String(app[member]);
  const value = app[member as LimitMember];
  if ((SERVER_DEFAULT_LIMIT_MEMBERS as string[]).includes(member) && isAbsent(item[ATTRIBUTES[member]])) {
    return SERVER_DEFAULT;
  }
  return value === 0 ? NOTHING_ALLOWED : describeLimit(value);
}

function zeroLimitWarnings(item: AppItem, app: App): Finding[] {
  return LIMIT_MEMBERS.filter(
    (member) => member !== 'maxConnections' && app[member] === 0 && !isAbsent(item[ATTRIBUTES[member]]),
  ).map((member) => ({
    attribute: ATTRIBUTES[member],
    kind: 'warning' as const,
    text: `0 allows nothing: every ${SUBJECTS[member]} is refused (soketi did the same). Set -1 if you meant unlimited.`,
  }));
}

/** What soketi made of an attribute this service refuses, and the command that sets it right. */
function soketiNoteForUnreadable(item: AppItem, id: string, path: string): string {
  const { member, rest } = splitProblemPath(path);
  const update = `apps update ${id}`;
  if (member === 'webhooks') {
    const reading =
      rest === '' ? 'soketi read it as no webhooks' : 'soketi failed to load an app with such an entry';
    return `; ${reading}. Set it with ${update} --webhooks <json>.`;
  }
  if (member === 'enabled')
    return `; soketi read it as ${soketiBoolean(item, member).meaning}. Set it with ${update} --enabled or --disabled.`;
  if (member !== undefined && (BOOLEAN_MEMBERS as string[]).includes(member)) {
    const flag = flagOf(member);
    const reading = soketiBoolean(item, member as BooleanMember).meaning;
    return `; soketi read it as ${reading}. Set it with ${update} ${flag} or ${flag.replace('--', '--no-')}.`;
  }
  if (member !== undefined && (LIMIT_MEMBERS as string[]).includes(member)) {
    const reading = soketiLimit(item, member as LimitMember).meaning;
    return `; soketi read it as ${reading}. Set it with ${update} ${flagOf(member)} <n|unlimited>.`;
  }
  return '';
}

/** A stored value in a few words: type and value, but never a webhook text (it may hold credentials). */
function stored(attribute: string, value: AttributeValue | undefined): string {
  if (value === undefined) return 'absent';
  if (value.NULL) return 'NULL';
  if (value.BOOL !== undefined) return `BOOL ${value.BOOL}`;
  if (value.N !== undefined) return `N ${value.N}`;
  if (value.S !== undefined) {
    return attribute === ATTRIBUTES.webhooks
      ? `S (${value.S.length} characters of JSON)`
      : `S ${quote(value.S)}`;
  }
  if (value.B !== undefined) return `B ${bytesText(value.B)}`;
  if (value.L !== undefined) return `L (${value.L.length} entries)`;
  return Object.keys(value).find((type) => value[type as keyof AttributeValue] !== undefined) ?? 'unknown';
}

function bytesText(bytes: Uint8Array): string {
  try {
    const text = UTF8.decode(bytes);
    if (PRINTABLE.test(text)) return quote(text);
  } catch {
    // not UTF-8: described by size below
  }
  return `(${bytes.length} bytes that are not text)`;
}

function quote(text: string): string {
  return JSON.stringify(text.length > SHOWN_TEXT_LIMIT ? `${text.slice(0, SHOWN_TEXT_LIMIT)}…` : text);
}

function sameValue(left: AttributeValue | undefined, right: AttributeValue | undefined): boolean {
  if (left === undefined || right === undefined) return left === right;
  if (left.B !== undefined || right.B !== undefined) {
    return left.B !== undefined && right.B !== undefined && Buffer.from(left.B).equals(Buffer.from(right.B));
  }
  return JSON.stringify(left) === JSON.stringify(right);
}
