import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { AppItem } from '../apps/parse-item.js';

/**
 * An item as DynamoDB JSON, the form the AWS CLI reads and writes (`aws dynamodb put-item --item`):
 * every attribute as stored, binary values in base64.
 */
export function itemAsDynamoDbJson(item: AppItem): Record<string, unknown> {
  return Object.fromEntries(Object.entries(item).map(([name, value]) => [name, valueAsJson(value)]));
}

function valueAsJson(value: AttributeValue): unknown {
  if (value.B !== undefined) return { B: base64(value.B) };
  if (value.BS !== undefined) return { BS: value.BS.map(base64) };
  if (value.L !== undefined) return { L: value.L.map(valueAsJson) };
  if (value.M !== undefined) return { M: itemAsDynamoDbJson(value.M) };
  return value;
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}
