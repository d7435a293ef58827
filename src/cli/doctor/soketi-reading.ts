import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { AppItem } from '../../apps/parse-item.js';
import {
  ATTRIBUTES,
  BOOLEAN_DEFAULTS,
  type BooleanMember,
  type LimitMember,
  WRITTEN_LIMIT_MEMBERS,
} from '../fields.js';

/**
 * How soketi read an app item (its DynamoDB app manager and `App` constructor, see
 * shared/reference/soketi-dynamodb-driver.md §4–§5), described in this service's words so the doctor can
 * compare the two readings. Only the fields whose reading can differ are modelled: booleans and limits.
 */

/** soketi's snake_case aliases; the camelCase alias is the member name itself. */
const SNAKE_ALIASES: Partial<Record<BooleanMember | LimitMember, string>> = {
  enableClientMessages: 'enable_client_messages',
  enableUserAuthentication: 'enable_user_authentication',
  maxConnections: 'max_connections',
  maxBackendEventsPerSecond: 'max_backend_events_per_sec',
  maxClientEventsPerSecond: 'max_client_events_per_sec',
  maxReadRequestsPerSecond: 'max_read_req_per_sec',
  maxPresenceMembersPerChannel: 'max_presence_members_per_channel',
  maxPresenceMemberSizeInKb: 'max_presence_member_size_in_kb',
  maxChannelNameLength: 'max_channel_name_length',
  maxEventChannelsAtOnce: 'max_event_channels_at_once',
  maxEventNameLength: 'max_event_name_length',
  maxEventPayloadInKb: 'max_event_payload_in_kb',
  maxEventBatchSize: 'max_event_batch_size',
};

/** The words the npm `boolean` package reads as true; soketi applied it to `EnableClientMessages` bytes. */
const BOOLEAN_PACKAGE_TRUE = new Set(['true', 't', 'yes', 'y', 'on', '1']);
const DECIMAL_MEMBERS = new Set<LimitMember>(['maxPresenceMemberSizeInKb', 'maxEventPayloadInKb']);
const TEXT = new TextDecoder('utf-8');

export const SERVER_DEFAULT = 'the server default';
export const NOTHING_ALLOWED = '0, nothing allowed';
export const UNLIMITED_WORD = 'unlimited';

export interface SoketiReading {
  /** The attribute soketi took the value from: the PascalCase one, or an alias that won over it. */
  readonly source: string;
  readonly meaning: string;
  /**
   * The value this service would need in the PascalCase attribute to enforce what soketi did; undefined
   * when soketi's reading has no equivalent here (a rate limiter built with NaN points) or is the server
   * default.
   */
  readonly equivalent: AttributeValue | undefined;
}

/**
 * The attribute soketi read for a member. Its constructor tried camelCase, PascalCase, then snake_case,
 * the last one present winning; `''` and null counted as absent.
 */
export function soketiSource(item: AppItem, member: BooleanMember | LimitMember): string {
  const candidates = [member, ATTRIBUTES[member], SNAKE_ALIASES[member]].filter(
    (name): name is string => name !== undefined,
  );
  return candidates.filter((name) => isPresent(item[name])).at(-1) ?? ATTRIBUTES[member];
}

/** The aliases of a member present on the item (soketi read them; this service ignores them). */
export function presentAliases(item: AppItem, member: BooleanMember | LimitMember): string[] {
  return [member, SNAKE_ALIASES[member]].filter(
    (name): name is string => name !== undefined && isPresent(item[name]),
  );
}

export function soketiBoolean(item: AppItem, member: BooleanMember): SoketiReading {
  const source = soketiSource(item, member);
  const value = item[source];
  const meaning = (read: boolean) => ({ source, meaning: String(read), equivalent: { BOOL: read } });
  if (!isPresent(value)) return meaning(BOOLEAN_DEFAULTS[member]);
  if (value.BOOL !== undefined) return meaning(value.BOOL);
  if (value.B !== undefined) {
    // Only the PascalCase EnableClientMessages was converted; any other Buffer is an object, so truthy.
    if (member === 'enableClientMessages' && source === ATTRIBUTES.enableClientMessages) {
      return meaning(BOOLEAN_PACKAGE_TRUE.has(TEXT.decode(value.B).trim().toLowerCase()));
    }
    return meaning(true);
  }
  if (value.N !== undefined) return meaning(Number(value.N) !== 0);
  // A non-empty string ('false' included), a list, a map or a set: all truthy.
  return meaning(true);
}

export function soketiLimit(item: AppItem, member: LimitMember): SoketiReading {
  const source = soketiSource(item, member);
  const value = item[source];
  const writtenLimit = (WRITTEN_LIMIT_MEMBERS as string[]).includes(member);
  const meaning = (text: string, equivalent?: number) => ({
    source,
    meaning: text,
    equivalent: equivalent === undefined ? undefined : { N: String(equivalent) },
  });
  if (!isPresent(value)) return writtenLimit ? meaning(UNLIMITED_WORD, -1) : meaning(SERVER_DEFAULT);
  const text = value.N ?? value.S ?? (value.B === undefined ? '' : TEXT.decode(value.B));
  const number = DECIMAL_MEMBERS.has(member) ? Number.parseFloat(text) : Number.parseInt(text, 10);
  if (member === 'maxConnections') {
    // `value || -1`, then "below zero is unlimited": 0, -1 and garbage all meant unlimited.
    return number > 0 && Number.isFinite(number)
      ? meaning(String(number), number)
      : meaning(UNLIMITED_WORD, -1);
  }
  if (Number.isNaN(number)) {
    return writtenLimit
      ? meaning('an undefined rate (a limiter built with NaN points)')
      : meaning(`${UNLIMITED_WORD} (a comparison with NaN never refuses)`, -1);
  }
  if (number < 0) {
    // This service's 0 refuses everything, as soketi's -1 did in the seven limits.
    return writtenLimit
      ? meaning(UNLIMITED_WORD, -1)
      : meaning('a limit that refuses everything (its check was value > -1)', 0);
  }
  if (number === 0) return meaning(NOTHING_ALLOWED, 0);
  return Number.isFinite(number) ? meaning(String(number), number) : meaning(UNLIMITED_WORD, -1);
}

/** soketi's SDK turned NULL into null, and the constructor treated null and '' as absent. */
function isPresent(value: AttributeValue | undefined): value is AttributeValue {
  return value !== undefined && value.NULL !== true && value.S !== '';
}
