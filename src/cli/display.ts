import type { AppLimitDefaults } from '../config/config.js';
import type { AppRecord } from './app-record.js';
import {
  APP_MEMBERS,
  type AppMember,
  LIMIT_MEMBERS,
  type LimitMember,
  SERVER_DEFAULT_VARIABLES,
  type ServerDefaultLimitMember,
} from './fields.js';
import type { OutputStream } from './io.js';

export const HIDDEN = '********';

/**
 * A record fit to show: without the secret, and with webhook header values and URL user info and query
 * values (which may hold credentials) hidden, unless `showSecrets`. The secret is left out rather than masked so that a masked record fed
 * back to `import` fails instead of writing a placeholder.
 */
export function shownRecord(record: AppRecord, showSecrets: boolean): Partial<AppRecord> {
  if (showSecrets) return record;
  const { secret: _secret, ...rest } = record;
  return { ...rest, webhooks: record.webhooks.map(hideWebhookCredentials) };
}

/** `id  …` lines, one per member, limits in words; the secret hidden unless `showSecret`. */
export function formatDetails(record: AppRecord, showSecret: boolean, defaults: AppLimitDefaults): string {
  const width = Math.max(...APP_MEMBERS.map((member) => member.length)) + 2;
  const lines = APP_MEMBERS.map(
    (member) => `${member.padEnd(width)}${describeMember(record, member, showSecret, defaults)}`,
  );
  return `${lines.join('\n')}\n`;
}

function describeMember(
  record: AppRecord,
  member: AppMember,
  showSecret: boolean,
  defaults: AppLimitDefaults,
): string {
  if (member === 'secret') return showSecret ? record.secret : `${HIDDEN} (--show-secret prints it)`;
  if (member === 'webhooks') {
    const shown = showSecret ? record.webhooks : record.webhooks.map(hideWebhookCredentials);
    return [String(shown.length), ...shown.map((webhook) => `  ${JSON.stringify(webhook)}`)].join('\n');
  }
  if ((LIMIT_MEMBERS as string[]).includes(member)) {
    const value = record[member as LimitMember];
    if (value !== undefined) return describeLimit(value);
    // The value comes from this shell's environment; the Lambdas read their own stage's setting.
    const serverDefault = member as ServerDefaultLimitMember;
    return (
      `server default (${describeLimit(defaults[serverDefault])} by ${SERVER_DEFAULT_VARIABLES[serverDefault]} ` +
      "here; the deployed stage's setting applies)"
    );
  }
  return String(record[member as keyof AppRecord]);
}

/** A limit in words: -1 (or Infinity) is unlimited, 0 allows nothing. */
export function describeLimit(value: number): string {
  if (value < 0 || value === Number.POSITIVE_INFINITY) return 'unlimited';
  if (value === 0) return '0 (nothing allowed)';
  return String(value);
}

/** A webhook without its credentials: header values, and the URL's user info and query values. */
function hideWebhookCredentials(webhook: unknown): unknown {
  if (typeof webhook !== 'object' || webhook === null) return webhook;
  const { headers, url } = webhook as { headers?: unknown; url?: unknown };
  const hidden: Record<string, unknown> = { ...webhook };
  if (typeof headers === 'object' && headers !== null) {
    hidden.headers = Object.fromEntries(Object.keys(headers).map((name) => [name, HIDDEN]));
  }
  if (typeof url === 'string') hidden.url = hideUrlCredentials(url);
  return hidden;
}

function hideUrlCredentials(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return HIDDEN;
  }
  if (url.username !== '') url.username = HIDDEN;
  if (url.password !== '') url.password = HIDDEN;
  // Built by hand: URLSearchParams would percent-encode the mask.
  const names = [...url.searchParams.keys()];
  const { hash } = url;
  url.search = '';
  url.hash = '';
  const query = names.map((name) => `${encodeURIComponent(name)}=${HIDDEN}`).join('&');
  return `${url.href}${query === '' ? '' : `?${query}`}${hash}`;
}

/**
 * A text table written a page at a time: the header once, columns as wide as the widest value seen so
 * far, so a long listing streams instead of waiting for the whole table.
 */
export class TableWriter {
  private widths: number[];
  private started = false;

  constructor(
    private readonly stream: OutputStream,
    private readonly headers: readonly string[],
  ) {
    this.widths = headers.map((header) => header.length);
  }

  writePage(rows: readonly (readonly string[])[]): void {
    if (rows.length === 0) return;
    for (const row of rows)
      this.widths = this.widths.map((width, index) => Math.max(width, row[index]!.length));
    const lines = this.started ? [] : [this.headers];
    this.started = true;
    const text = [...lines, ...rows]
      .map((row) =>
        row
          .map((cell, index) => cell.padEnd(this.widths[index]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n');
    this.stream.write(`${text}\n`);
  }
}
