import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { type AppLimitDefaults, DEFAULT_APP_LIMITS } from '../config/config.js';
import { type FieldProblem, InvalidAppItemError } from '../errors/errors.js';
import { quoteForMessage } from '../errors/format.js';
import {
  type App,
  type LambdaWebhookOptions,
  UNLIMITED,
  WEBHOOK_EVENT_TYPES,
  type Webhook,
  type WebhookEventType,
  type WebhookFilter,
} from './app.js';
import { nativeValueOf } from './attribute-value.js';

/** A raw DynamoDB item of the apps table, as the SDK returns it. */
export type AppItem = Record<string, AttributeValue>;

type PropertyOfType<T> = { [K in keyof App]: App[K] extends T ? K : never }[keyof App];

interface BooleanField {
  readonly attribute: string;
  readonly property: PropertyOfType<boolean>;
  readonly fallback: boolean;
}

interface NumberField<P extends PropertyOfType<number>> {
  readonly attribute: string;
  readonly property: P;
  /** Only the two sizes in KB take fractions. */
  readonly decimal?: boolean;
  /** soketi reads `MaxConnections: 0` as unlimited; tables written for it rely on that. */
  readonly zeroIsUnlimited?: boolean;
}

const BOOLEAN_FIELDS: readonly BooleanField[] = [
  { attribute: 'Enabled', property: 'enabled', fallback: true },
  { attribute: 'EnableClientMessages', property: 'enableClientMessages', fallback: false },
  { attribute: 'EnableUserAuthentication', property: 'enableUserAuthentication', fallback: false },
];

/** Numeric fields that are unlimited when absent. */
const UNLIMITED_BY_DEFAULT_FIELDS: readonly NumberField<
  Exclude<PropertyOfType<number>, keyof AppLimitDefaults>
>[] = [
  { attribute: 'MaxConnections', property: 'maxConnections', zeroIsUnlimited: true },
  { attribute: 'MaxBackendEventsPerSecond', property: 'maxBackendEventsPerSecond' },
  { attribute: 'MaxClientEventsPerSecond', property: 'maxClientEventsPerSecond' },
  { attribute: 'MaxReadRequestsPerSecond', property: 'maxReadRequestsPerSecond' },
];

/** Numeric fields that take the server-level default when absent. */
const SERVER_DEFAULT_FIELDS: readonly NumberField<keyof AppLimitDefaults>[] = [
  { attribute: 'MaxPresenceMembersPerChannel', property: 'maxPresenceMembersPerChannel' },
  { attribute: 'MaxPresenceMemberSizeInKb', property: 'maxPresenceMemberSizeInKb', decimal: true },
  { attribute: 'MaxChannelNameLength', property: 'maxChannelNameLength' },
  { attribute: 'MaxEventChannelsAtOnce', property: 'maxEventChannelsAtOnce' },
  { attribute: 'MaxEventNameLength', property: 'maxEventNameLength' },
  { attribute: 'MaxEventPayloadInKb', property: 'maxEventPayloadInKb', decimal: true },
  { attribute: 'MaxEventBatchSize', property: 'maxEventBatchSize' },
];

/**
 * Words accepted in a `B` boolean. soketi decoded `B` with the npm `boolean` package (true for
 * true/t/yes/y/on/1, false for anything else); we accept those words and their opposites so soketi
 * tables keep their meaning, and reject any other text instead of reading it as false.
 */
const BYTES_BOOLEAN_WORDS = new Map<string, boolean>([
  ...['true', 't', 'yes', 'y', 'on', '1'].map((word): [string, boolean] => [word, true]),
  ...['false', 'f', 'no', 'n', 'off', '0'].map((word): [string, boolean] => [word, false]),
]);
const STRING_BOOLEAN_WORDS = new Map<string, boolean>([
  ['true', true],
  ['1', true],
  ['false', false],
  ['0', false],
]);
const BOOLEAN_FORMS = 'BOOL; B or S text true/false/1/0; or N 1/0';

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const DECIMAL_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const LINE_BREAK_OR_NUL = /[\r\n\0]/;
const QUOTED_TEXT_LIMIT = 40;

/** A field that could not be read; the reason is collected, never thrown one at a time. */
class Rejected {
  constructor(readonly problem: string) {}
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Turns a raw item of the apps table (soketi's schema) into an `App`, or throws an
 * `InvalidAppItemError` naming every bad field. The secret's value never appears in a message.
 * Attributes that are absent or `NULL` take their defaults; unknown attributes are ignored.
 */
export function parseAppItem(item: AppItem, defaults: AppLimitDefaults = DEFAULT_APP_LIMITS): App {
  const problems: FieldProblem[] = [];
  const read = <T>(attribute: string, parse: (value: AttributeValue) => T | Rejected, fallback: T): T => {
    const value = item[attribute];
    if (isAbsent(value)) return fallback;
    const parsed = parse(value);
    if (!(parsed instanceof Rejected)) return parsed;
    problems.push({ field: attribute, problem: parsed.problem });
    return fallback;
  };

  const id = readRequiredString(item, 'AppId', problems);
  const key = readRequiredString(item, 'AppKey', problems);
  const secret = readRequiredString(item, 'AppSecret', problems);
  const booleans = Object.fromEntries(
    BOOLEAN_FIELDS.map((field) => [field.property, read(field.attribute, parseBoolean, field.fallback)]),
  ) as Record<PropertyOfType<boolean>, boolean>;
  const numbers = Object.fromEntries([
    ...UNLIMITED_BY_DEFAULT_FIELDS.map((field) => [
      field.property,
      read(field.attribute, numberParser(field), UNLIMITED),
    ]),
    ...SERVER_DEFAULT_FIELDS.map((field) => [
      field.property,
      read(field.attribute, numberParser(field), defaults[field.property]),
    ]),
  ]) as Record<PropertyOfType<number>, number>;
  const webhooks = readWebhooks(item.Webhooks, problems);

  if (problems.length > 0) throw new InvalidAppItemError(id || undefined, problems);
  return Object.freeze({ id, key, secret, ...booleans, ...numbers, webhooks });
}

/**
 * The canonical item for an app, as the apps CLI writes it: `BOOL` booleans, `N` numbers with `-1`
 * for unlimited, `Webhooks` as a JSON string with soketi's snake_case keys. Every field is written,
 * so `parseAppItem(toAppItem(app))` equals `app`. Throws `InvalidAppItemError` for an app the
 * resolver would not read back as it is.
 */
export function toAppItem(app: App): AppItem {
  if (app.maxConnections === 0) {
    throw new InvalidAppItemError(app.id, [
      {
        field: 'MaxConnections',
        problem:
          "cannot be 0, which soketi's schema reads as unlimited; set Enabled to false to refuse connections",
      },
    ]);
  }
  const item: AppItem = { AppId: { S: app.id }, AppKey: { S: app.key }, AppSecret: { S: app.secret } };
  for (const field of BOOLEAN_FIELDS) item[field.attribute] = { BOOL: app[field.property] };
  for (const field of [...UNLIMITED_BY_DEFAULT_FIELDS, ...SERVER_DEFAULT_FIELDS]) {
    const value = app[field.property];
    item[field.attribute] = { N: value < 0 || value === UNLIMITED ? '-1' : String(value) };
  }
  item.Webhooks = { S: JSON.stringify(app.webhooks.map(toWebhookJson)) };
  // One set of rules: an item the resolver would reject is never written.
  parseAppItem(item);
  return item;
}

function toWebhookJson(webhook: Webhook): Record<string, unknown> {
  // JSON.stringify drops the undefined members.
  return {
    url: webhook.url,
    lambda_function: webhook.lambdaFunction,
    lambda: webhook.lambda && {
      async: webhook.lambda.async,
      region: webhook.lambda.region,
      client_options: webhook.lambda.clientOptions,
    },
    region: webhook.region,
    event_types: webhook.eventTypes,
    filter: webhook.filter && {
      channel_name_starts_with: webhook.filter.channelNameStartsWith,
      channel_name_ends_with: webhook.filter.channelNameEndsWith,
    },
    headers: webhook.headers,
  };
}

/** Whether an attribute is missing as far as the resolver is concerned (absent or NULL). */
export function isAbsent(value: AttributeValue | undefined): value is undefined {
  return value === undefined || value.NULL === true;
}

function readRequiredString(item: AppItem, attribute: string, problems: FieldProblem[]): string {
  const value = item[attribute];
  if (isAbsent(value)) {
    problems.push({ field: attribute, problem: 'is missing' });
  } else if (typeof value.S !== 'string') {
    problems.push({ field: attribute, problem: `must be a string (S), got ${typeOf(value)}` });
  } else if (value.S.length === 0) {
    problems.push({ field: attribute, problem: 'must not be empty' });
  } else {
    return value.S;
  }
  return '';
}

function parseBoolean(value: AttributeValue): boolean | Rejected {
  if (typeof value.BOOL === 'boolean') return value.BOOL;
  if (value.B instanceof Uint8Array) {
    let text: string;
    try {
      text = UTF8.decode(value.B);
    } catch {
      // The AWS CLI base64-decodes B input, so `{"B":"true"}` stores three bytes of garbage.
      return new Rejected(
        `must be a boolean (${BOOLEAN_FORMS}), got B bytes that are not text (from the AWS CLI, write true as dHJ1ZQ== and false as ZmFsc2U=)`,
      );
    }
    return booleanWord(BYTES_BOOLEAN_WORDS, 'B', text);
  }
  if (typeof value.S === 'string') return booleanWord(STRING_BOOLEAN_WORDS, 'S', value.S);
  if (typeof value.N === 'string') {
    const number = parseDecimal(value.N);
    if (number === 1 || number === 0) return number === 1;
    return new Rejected(
      `must be a boolean (${BOOLEAN_FORMS}), got N ${quoteForMessage(value.N, QUOTED_TEXT_LIMIT)}`,
    );
  }
  return new Rejected(`must be a boolean (${BOOLEAN_FORMS}), got ${typeOf(value)}`);
}

function booleanWord(words: ReadonlyMap<string, boolean>, type: string, text: string): boolean | Rejected {
  return (
    words.get(text.trim().toLowerCase()) ??
    new Rejected(
      `must be a boolean (${BOOLEAN_FORMS}), got ${type} ${quoteForMessage(text, QUOTED_TEXT_LIMIT)}`,
    )
  );
}

function numberParser(
  field: NumberField<PropertyOfType<number>>,
): (value: AttributeValue) => number | Rejected {
  return (value) => {
    const text = value.N ?? value.S;
    if (typeof text !== 'string')
      return new Rejected(`must be a number (N, or S holding one), got ${typeOf(value)}`);
    const number = parseDecimal(text);
    if (number === undefined)
      return new Rejected(
        `must be a number, got ${typeOf(value)} ${quoteForMessage(text, QUOTED_TEXT_LIMIT)}`,
      );
    // One meaning everywhere: any negative number is unlimited, 0 allows nothing.
    if (number < 0) return UNLIMITED;
    if (number === 0) return field.zeroIsUnlimited ? UNLIMITED : 0;
    if (!field.decimal && !Number.isInteger(number)) {
      return new Rejected(`must be a whole number, got ${quoteForMessage(text, QUOTED_TEXT_LIMIT)}`);
    }
    return number;
  };
}

function parseDecimal(text: string): number | undefined {
  const trimmed = text.trim();
  if (!DECIMAL_NUMBER.test(trimmed)) return undefined;
  const number = Number(trimmed);
  return Number.isFinite(number) ? number : undefined;
}

function readWebhooks(value: AttributeValue | undefined, problems: FieldProblem[]): readonly Webhook[] {
  if (isAbsent(value)) return Object.freeze([]);
  let raw: unknown;
  if (typeof value.S === 'string') {
    try {
      raw = JSON.parse(value.S);
    } catch {
      problems.push({ field: 'Webhooks', problem: 'is not valid JSON' });
      return [];
    }
  } else if (Array.isArray(value.L)) {
    // soketi also took a native list (its SDK converted it to an array).
    try {
      raw = nativeValueOf(value);
    } catch (error) {
      problems.push({
        field: 'Webhooks',
        problem: `holds a value that cannot be read: ${(error as Error).message}`,
      });
      return [];
    }
  } else {
    problems.push({ field: 'Webhooks', problem: `must be a JSON string (S), got ${typeOf(value)}` });
    return [];
  }
  if (!Array.isArray(raw)) {
    problems.push({ field: 'Webhooks', problem: 'must hold a JSON array of webhook objects' });
    return [];
  }
  const webhooks = raw.map((entry, index) => readWebhook(entry, `Webhooks[${index}]`, problems));
  return Object.freeze(webhooks);
}

function readWebhook(entry: unknown, path: string, problems: FieldProblem[]): Webhook {
  const webhook: Mutable<Partial<Webhook>> = {};
  if (!isRecord(entry)) {
    problems.push({ field: path, problem: AN_OBJECT });
    return webhook as Webhook;
  }
  const problem = (field: string, text: string) => problems.push({ field: `${path}${field}`, problem: text });

  const url = member(entry, 'url');
  const lambdaFunction = member(entry, 'lambda_function');
  copyMember(webhook, 'url', entry, 'url', isHttpUrl, 'an http(s) URL', problem);
  copyMember(
    webhook,
    'lambdaFunction',
    entry,
    'lambda_function',
    isNonEmptyString,
    'a non-empty string',
    problem,
  );
  if (url === undefined && lambdaFunction === undefined) problem('', 'needs a url or a lambda_function');
  if (url !== undefined && lambdaFunction !== undefined)
    problem('', 'must have a url or a lambda_function, not both');

  const eventTypes = member(entry, 'event_types');
  if (!Array.isArray(eventTypes) || eventTypes.length === 0) {
    problem('.event_types', `must be a non-empty array of event types (${WEBHOOK_EVENT_TYPES.join(', ')})`);
  } else {
    eventTypes.forEach((type, index) => {
      if (!isEventType(type)) {
        problem(
          `.event_types[${index}]`,
          `is not a known event type: ${typeof type === 'string' ? quoteForMessage(type, QUOTED_TEXT_LIMIT) : typeof type}`,
        );
      }
    });
    webhook.eventTypes = Object.freeze(eventTypes.filter(isEventType));
  }

  const filter = member(entry, 'filter');
  if (filter !== undefined) {
    if (isRecord(filter))
      webhook.filter = readFilter(filter, (field, text) => problem(`.filter${field}`, text));
    else problem('.filter', AN_OBJECT);
  }
  const headers = member(entry, 'headers');
  if (headers !== undefined) {
    if (isRecord(headers))
      webhook.headers = readHeaders(headers, (field, text) => problem(`.headers${field}`, text));
    else problem('.headers', 'must be an object of header names to values');
  }
  const lambda = member(entry, 'lambda');
  if (lambda !== undefined) {
    if (isRecord(lambda))
      webhook.lambda = readLambdaOptions(lambda, (field, text) => problem(`.lambda${field}`, text));
    else problem('.lambda', AN_OBJECT);
  }
  copyMember(webhook, 'region', entry, 'region', isNonEmptyString, 'a non-empty string', problem);
  return Object.freeze(webhook) as Webhook;
}

type Report = (field: string, problem: string) => void;

/** Copies an optional member that `accepts` takes into `target[key]`, or reports it; an absent one is left out. */
function copyMember<Target, Key extends keyof Target>(
  target: Mutable<Target>,
  key: Key,
  source: Record<string, unknown>,
  name: string,
  accepts: (value: unknown) => boolean,
  expected: string,
  report: Report,
): void {
  const value = member(source, name);
  if (value === undefined) return;
  if (accepts(value)) target[key] = value as Target[Key];
  else report(`.${name}`, `must be ${expected}`);
}

const isString = (value: unknown) => typeof value === 'string';
const AN_OBJECT = 'must be an object';

function readFilter(filter: Record<string, unknown>, report: Report): WebhookFilter {
  const result: Mutable<WebhookFilter> = {};
  copyMember(
    result,
    'channelNameStartsWith',
    filter,
    'channel_name_starts_with',
    isString,
    'a string',
    report,
  );
  copyMember(result, 'channelNameEndsWith', filter, 'channel_name_ends_with', isString, 'a string', report);
  return Object.freeze(result);
}

function readHeaders(headers: Record<string, unknown>, report: Report): Readonly<Record<string, string>> {
  const result: [string, string][] = [];
  for (const [name, value] of Object.entries(headers)) {
    // Header values may hold credentials: name the header, never echo the value.
    if (!HEADER_NAME.test(name))
      report('', `has an invalid header name ${quoteForMessage(name, QUOTED_TEXT_LIMIT)}`);
    else if (typeof value !== 'string' || LINE_BREAK_OR_NUL.test(value))
      report(`.${name}`, 'must be a one-line string');
    else result.push([name, value]);
  }
  return Object.freeze(Object.fromEntries(result));
}

function readLambdaOptions(lambda: Record<string, unknown>, report: Report): LambdaWebhookOptions {
  const result: Mutable<LambdaWebhookOptions> = {};
  copyMember(
    result,
    'async',
    lambda,
    'async',
    (value) => typeof value === 'boolean',
    'true or false',
    report,
  );
  copyMember(result, 'region', lambda, 'region', isNonEmptyString, 'a non-empty string', report);
  const clientOptions = member(lambda, 'client_options');
  if (isRecord(clientOptions)) {
    const options: { endpoint?: string } = {};
    copyMember(options, 'endpoint', clientOptions, 'endpoint', isHttpUrl, 'an http(s) URL', (field, text) =>
      report(`.client_options${field}`, text),
    );
    if (options.endpoint !== undefined) result.clientOptions = Object.freeze(options);
  } else if (clientOptions !== undefined) report('.client_options', AN_OBJECT);
  return Object.freeze(result);
}

/** A JSON member, with `null` read as absent (soketi treated null as unset). */
function member(object: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(object, name) && object[name] !== null ? object[name] : undefined;
}

/** A JSON object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function isEventType(value: unknown): value is WebhookEventType {
  return typeof value === 'string' && (WEBHOOK_EVENT_TYPES as readonly string[]).includes(value);
}

/** A string that parses as an http: or https: URL. */
export function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/** The DynamoDB type of an attribute value (`S`, `N`, `M`, ...), for messages. */
function typeOf(value: AttributeValue): string {
  return Object.entries(value).find(([, member]) => member !== undefined)?.[0] ?? 'an empty value';
}
