import { InvalidQueryStringError } from '../errors/errors.js';
import { quoteForMessage } from '../errors/format.js';

/**
 * Decoded query parameters. A key given more than once holds an array in the order received, and so does a
 * key ending in `[]` (`channels[]=a` gives `{ 'channels[]': ['a'] }`): keys are kept exactly as sent.
 */
export type QueryParams = Record<string, string | string[]>;

/**
 * Parses a raw query string (without the leading `?`), as API Gateway's `rawQueryString` holds it.
 *
 * Keys and values are percent-decoded as UTF-8 and `+` decodes to a space
 * (`application/x-www-form-urlencoded`): the Java, ruby and python SDKs send spaces as `+`, while the node
 * SDK sends `%20`. A literal plus must therefore arrive as `%2B`, as every escaping SDK sends it; no valid
 * channel name or `info` value contains one.
 *
 * The result has no prototype, so a key such as `__proto__` is an ordinary parameter.
 *
 * @throws InvalidQueryStringError (status 400) on a malformed percent-escape or invalid UTF-8.
 */
export function parseQueryString(raw: string): QueryParams {
  const params: QueryParams = Object.create(null);
  const pairs = decodeQueryPairs(raw);
  for (let i = 0; i < pairs.length; i += 2) {
    const name = pairs[i]!;
    const value = pairs[i + 1]!;
    const existing = params[name];
    if (existing === undefined) {
      params[name] = name.endsWith('[]') ? [value] : value;
    } else if (typeof existing === 'string') {
      params[name] = [existing, value];
    } else {
      existing.push(value);
    }
  }
  return params;
}

/**
 * The decoded parameters of a raw query string in the order received, flattened as
 * `[name0, value0, name1, value1, …]`; a name without `=` has the value `''`. Decoding as `parseQueryString`.
 *
 * @throws InvalidQueryStringError (status 400) on a malformed percent-escape or invalid UTF-8.
 */
export function decodeQueryPairs(raw: string): string[] {
  const pairs: string[] = [];
  const length = raw.length;
  // The next '=' at or after `start`, found once and reused, so a long run of names without '=' stays linear.
  let equals = -1;
  let start = 0;
  while (start < length) {
    let end = raw.indexOf('&', start);
    if (end === -1) end = length;
    if (end > start) {
      if (equals !== length && equals < start) {
        equals = raw.indexOf('=', start);
        if (equals === -1) equals = length;
      }
      if (equals < end) {
        pairs.push(
          decodeQueryComponent(raw.slice(start, equals)),
          decodeQueryComponent(raw.slice(equals + 1, end)),
        );
      } else {
        pairs.push(decodeQueryComponent(raw.slice(start, end)), '');
      }
    }
    start = end + 1;
  }
  return pairs;
}

function decodeQueryComponent(component: string): string {
  const hasPlus = component.includes('+');
  if (!hasPlus && !component.includes('%')) return component;
  const spaced = hasPlus ? component.replaceAll('+', ' ') : component;
  try {
    return decodeURIComponent(spaced);
  } catch {
    throw new InvalidQueryStringError(
      `Invalid query string: malformed percent-encoding in ${quoteForMessage(component)}`,
    );
  }
}
