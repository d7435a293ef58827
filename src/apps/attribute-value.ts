import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/**
 * The plain JavaScript value of a DynamoDB attribute, for the one place an item holds a document: a
 * `Webhooks` native list. It reads as `convertToNative` of `@aws-sdk/util-dynamodb` does, without bundling
 * that package into every Lambda that resolves apps, except that sets, which have no JSON form, are refused.
 * Throws a `RangeError` for an integer beyond 2^53 or a number that is not finite, and a `TypeError` for a set
 * or an attribute of no known type. Messages never quote the value: a webhook header may hold a credential.
 */
export function nativeValueOf(value: AttributeValue): unknown {
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return numberOf(value.N);
  if (value.BOOL !== undefined) return value.BOOL;
  if (value.NULL !== undefined) return null;
  if (value.L !== undefined) return value.L.map(nativeValueOf);
  if (value.M !== undefined) {
    return Object.fromEntries(Object.entries(value.M).map(([name, member]) => [name, nativeValueOf(member)]));
  }
  if (value.B !== undefined) return value.B;
  if (value.SS !== undefined || value.NS !== undefined || value.BS !== undefined) {
    throw new TypeError('a set (SS, NS or BS) has no JSON form; use a list (L)');
  }
  throw new TypeError('an attribute value of no known type');
}

function numberOf(text: string): number {
  const number = Number(text);
  if (text.trim() === '' || !Number.isFinite(number)) {
    throw new RangeError('a number that is not finite');
  }
  if (Number.isInteger(number) && !Number.isSafeInteger(number)) {
    throw new RangeError('an integer beyond 2^53, which would lose precision');
  }
  return number;
}
