import { type AttributeValue, type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { STATE_TTL_ATTRIBUTE } from '../state/table-schema.js';

/**
 * The state-table item of one window of one app's limit: `pk`, `sk`, `claimed` (tokens asked for by all
 * leases; the first `limit` of them were granted), `claimers` (containers that leased in the window) and
 * `expiresAt` (TTL).
 */
export interface WindowItem {
  readonly appId: string;
  readonly kind: string;
  /** Epoch second the window starts at. */
  readonly window: number;
}

/** `pk = rate#<appId>#<kind>`, `sk = <window epoch second>`: unambiguous because kinds never contain `#`. */
export function windowItemKey(item: WindowItem): Record<string, AttributeValue> {
  return { pk: { S: `rate#${item.appId}#${item.kind}` }, sk: { S: String(item.window) } };
}

export interface LeaseRequest {
  readonly item: WindowItem;
  /** Tokens asked for, at least 1. */
  readonly tokens: number;
  /**
   * No lease of this container was answered in this window yet: it counts itself among the claimers (once
   * more if an earlier lease reached DynamoDB but its answer was lost, which only lowers the shares).
   */
  readonly firstInWindow: boolean;
  readonly limit: number;
  /** Epoch second after which DynamoDB's TTL sweeper may delete the window item. */
  readonly expiresAt: number;
  readonly timeoutMs: number;
}

export interface LeaseOutcome {
  /** Tokens leased: all those asked for, or what the window had left (possibly none). */
  readonly granted: number;
  /** Tokens claimed by all containers in the window so far, this lease included; may pass the limit. */
  readonly claimedInWindow: number;
  /** Containers that leased in the window so far, this one included (a lease lost on the way may count twice). */
  readonly claimers: number;
}

const CLAIMED = 'claimed';
const CLAIMERS = 'claimers';

/**
 * Leases tokens of a window with one atomic `ADD` that returns the window's new total of claimed tokens.
 * Claims are applied one after another, so a lease knows exactly how many were claimed before it and
 * takes what is left of the limit, up to its ask: the tokens granted across all containers never exceed
 * the limit, and a lease is never refused and retried (one write, not two, when the budget runs short).
 */
export async function leaseTokens(
  client: DynamoDBClient,
  tableName: string,
  request: LeaseRequest,
): Promise<LeaseOutcome> {
  const output = await client.send(
    new UpdateItemCommand({
      TableName: tableName,
      Key: windowItemKey(request.item),
      UpdateExpression: 'ADD #claimed :tokens, #claimers :claimer SET #expiresAt = :expiresAt',
      ExpressionAttributeNames: {
        '#claimed': CLAIMED,
        '#claimers': CLAIMERS,
        '#expiresAt': STATE_TTL_ATTRIBUTE,
      },
      ExpressionAttributeValues: {
        ':tokens': { N: String(request.tokens) },
        ':claimer': { N: request.firstInWindow ? '1' : '0' },
        ':expiresAt': { N: String(request.expiresAt) },
      },
      // The whole item, so that a lease adding 0 claimers still reads how many containers share the window.
      ReturnValues: 'ALL_NEW',
    }),
    { abortSignal: AbortSignal.timeout(request.timeoutMs) },
  );
  const claimedInWindow = returnedNumber(output.Attributes, CLAIMED);
  const claimedBefore = claimedInWindow - request.tokens;
  return {
    granted: Math.min(request.tokens, Math.max(0, request.limit - claimedBefore)),
    claimedInWindow,
    claimers: returnedNumber(output.Attributes, CLAIMERS),
  };
}

function returnedNumber(attributes: Record<string, AttributeValue> | undefined, name: string): number {
  const value = Number(attributes?.[name]?.N);
  if (!Number.isFinite(value)) throw new TypeError(`UpdateItem returned no numeric ${name}`);
  return value;
}
