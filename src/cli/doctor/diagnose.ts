import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { App } from '../../apps/app.js';
import { nativeValueOf } from '../../apps/attribute-value.js';
import { type AppItem, isAbsent, isRecord, parseAppItem } from '../../apps/parse-item.js';
import { type AppLimitDefaults, DEFAULT_APP_LIMITS } from '../../config/config.js';
import { InvalidAppItemError } from '../../errors/errors.js';
import { canonicalAppItem } from '../app-record.js';
import type { ItemChange } from '../apps-table.js';
import { describeLimit } from '../display.js';
import {
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
  UNLIMITED_WORD,
} from './soketi-reading.js';

/**
 * - `unreadable`: this service refuses the item; `--fix` cannot guess a meaning for it.
 * - `differs`: this service reads the item differently than soketi did.
 * - `rewritten`: stored in a type the CLI does not write, read the same by both; `--fix` rewrites it.
 * - `warning`: valid and read alike, but probably not meant (a limit of 0). Never fails the check.
 * - `undeliverable`: a webhook this stage's rules would refuse to send to (see `unreachableWebhooks`).
 */
export type FindingKind = 'unreadable' | 'differs' | 'rewritten' | 'warning' | 'undeliverable';

export interface Finding {
  readonly attribute: string;
  readonly kind: FindingKind;
  readonly text: string;
  /** `--fix` cannot settle it: the operator has to set a value. */
  readonly manual?: true;
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
 * Compares how this service and soketi read one item, attribute by attribute, alias by alias. The fix keeps
 * this service's reading of each PascalCase attribute, except where soketi read an alias instead: then it
 * writes what soketi enforced into the PascalCase attribute before removing the alias. A Webhooks string
 * that reads correctly is never rewritten. Secrets and webhook texts are never quoted.
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

  const plan: FixPlan = { set: {}, remove: [] };
  const findings: Finding[] = [];
  for (const member of [...BOOLEAN_MEMBERS, ...LIMIT_MEMBERS]) {
    findings.push(...diagnoseMember({ item, canonical, app, id, member, plan }));
  }
  findings.push(...diagnoseWebhooks(item, plan));
  findings.push(...zeroLimitWarnings(item, app));

  const touched = [...Object.keys(plan.set), ...plan.remove];
  const fix =
    touched.length > 0
      ? {
          set: plan.set,
          remove: plan.remove,
          expect: Object.fromEntries(touched.map((attribute) => [attribute, item[attribute]])),
        }
      : undefined;
  return { id, key, findings, fix };
}

interface FixPlan {
  readonly set: AppItem;
  readonly remove: string[];
}

interface MemberContext {
  readonly item: AppItem;
  readonly canonical: AppItem;
  readonly app: App;
  readonly id: string;
  readonly member: BooleanMember | LimitMember;
  readonly plan: FixPlan;
}

function diagnoseMember({ item, canonical, app, id, member, plan }: MemberContext): Finding[] {
  const attribute = ATTRIBUTES[member];
  const soketi: SoketiReading = (BOOLEAN_MEMBERS as string[]).includes(member)
    ? soketiBoolean(item, member as BooleanMember)
    : soketiLimit(item, member as LimitMember);
  const ours = ourMeaning(item, app, member);
  const aliases = presentAliases(item, member);
  const findings: Finding[] = [];

  if (soketi.source !== attribute) {
    const winner = soketi.source;
    const over = `over ${attribute} (${stored(attribute, item[attribute])})`;
    if (soketi.equivalent === undefined) {
      // Nothing here means what soketi made of it: leave the alias and the attribute for the operator.
      return [
        {
          attribute: winner,
          kind: 'differs',
          manual: true,
          text:
            `${stored(winner, item[winner])}: soketi read this alias ${over} as ${soketi.meaning}, which ` +
            `this service cannot express; it ignores aliases and reads ${ours}. --fix leaves it: set the ` +
            `value with apps update ${id} ${flagOf(member)} <n|unlimited>, which also removes the alias.`,
        },
      ];
    }
    plan.set[attribute] = soketi.equivalent;
    findings.push({
      attribute: winner,
      kind: soketi.meaning === ours ? 'rewritten' : 'differs',
      text:
        `${stored(winner, item[winner])} → ${attribute} ${stored(attribute, soketi.equivalent)}, alias ` +
        `removed: soketi read this alias ${over} as ${soketi.meaning}; this service ignores aliases and ` +
        `reads ${ours}. --fix keeps soketi's reading.`,
    });
  } else if (!sameValue(item[attribute], canonical[attribute])) {
    const rewrite = `${stored(attribute, item[attribute])} → ${stored(attribute, canonical[attribute])}`;
    if (canonical[attribute] === undefined) plan.remove.push(attribute);
    else plan.set[attribute] = canonical[attribute];
    findings.push(
      soketi.meaning === ours
        ? { attribute, kind: 'rewritten', text: `${rewrite} (both read ${ours}).` }
        : { attribute, kind: 'differs', text: differsText(rewrite, soketi, ours, member) },
    );
  } else if (soketi.meaning !== ours) {
    findings.push({
      attribute,
      kind: 'differs',
      text: differsText(`${stored(attribute, item[attribute])} (kept)`, soketi, ours, member),
    });
  }
  for (const alias of aliases.filter((name) => name !== soketi.source)) {
    plan.remove.push(alias);
    findings.push({
      attribute: alias,
      kind: 'rewritten',
      text:
        `${stored(alias, item[alias])}, alias removed: soketi read ${soketi.source} over it, and this ` +
        'service ignores aliases, so neither read it.',
    });
  }
  if (soketi.source !== attribute) plan.remove.push(soketi.source);
  return findings;
}

function differsText(
  rewrite: string,
  soketi: SoketiReading,
  ours: string,
  member: BooleanMember | LimitMember,
): string {
  const text = `${rewrite}: soketi read it as ${soketi.meaning}, this service reads ${ours}.`;
  if (!(SERVER_DEFAULT_LIMIT_MEMBERS as string[]).includes(member) || ours !== UNLIMITED_WORD) return text;
  return (
    `${text} --fix keeps this service's reading (unlimited); to refuse everything as soketi did, set ` +
    `${flagOf(member)} 0.`
  );
}

/** Webhooks soketi read the same: kept as stored, converted from a list to JSON text only. */
function diagnoseWebhooks(item: AppItem, plan: FixPlan): Finding[] {
  const attribute = ATTRIBUTES.webhooks;
  const value = item[attribute];
  const findings: Finding[] = [];
  let entries: unknown;
  if (isAbsent(value)) {
    plan.set[attribute] = { S: '[]' };
    findings.push({
      attribute,
      kind: 'rewritten',
      text: `${stored(attribute, value)} → S "[]" (no webhooks, as soketi read it).`,
    });
    return findings;
  }
  if (value.S !== undefined) {
    entries = JSON.parse(value.S);
  } else {
    entries = nativeValueOf(value);
    const text = JSON.stringify(entries);
    plan.set[attribute] = { S: text };
    findings.push({
      attribute,
      kind: 'rewritten',
      text: `${stored(attribute, value)} → S (${text.length} characters of JSON, every member kept)`,
    });
  }
  const ignored = ignoredWebhookMembers(entries);
  if (ignored.length > 0) {
    findings.push({
      attribute,
      kind: 'differs',
      text:
        `this service ignores ${ignored.join(', ')} (of soketi's lambda.client_options it reads only ` +
        'endpoint, and only where the stage allows it); --fix keeps them as stored.',
    });
  }
  return findings;
}

/** The webhook members this service reads: `true` for a value read whole, an object for its own members. */
type MemberSpec = { readonly [name: string]: true | MemberSpec };
const WEBHOOK_MEMBERS: MemberSpec = {
  url: true,
  lambda_function: true,
  event_types: true,
  headers: true,
  region: true,
  filter: { channel_name_starts_with: true, channel_name_ends_with: true },
  lambda: { async: true, region: true, client_options: { endpoint: true } },
};

/** Paths of the webhook members this service does not read, such as `[0].lambda.client_options.credentials`. */
function ignoredWebhookMembers(entries: unknown): string[] {
  if (!Array.isArray(entries)) return [];
  return entries.flatMap((entry, index) => ignoredMembers(entry, WEBHOOK_MEMBERS, `Webhooks[${index}]`));
}

function ignoredMembers(value: unknown, spec: MemberSpec, path: string): string[] {
  if (!isRecord(value)) return [];
  return Object.entries(value).flatMap(([name, member]) => {
    if (member === null) return [];
    const known = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (known === undefined) return [`${path}.${name}`];
    return known === true ? [] : ignoredMembers(member, known, `${path}.${name}`);
  });
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
