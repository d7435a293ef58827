import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import type { App } from '../apps/app.js';
import type { AppResolver } from '../apps/index.js';
import type { WsConnectAuthorizerEvent } from '../gateway/events.js';

/** The protocol version this server speaks (pusher-js sends `protocol=7`). */
export const PUSHER_PROTOCOL_VERSION = '7';

export type ConnectRefusal = 'missing-key' | 'unknown-key' | 'app-disabled' | 'unsupported-protocol';

export type ConnectDecision =
  | { readonly allow: true; readonly app: App }
  | { readonly allow: false; readonly reason: ConnectRefusal; readonly appKey: string | undefined };

/** Flat context on `$connect` and later routes (`requestContext.authorizer`). Never the secret. */
export interface ConnectAuthorizerContext {
  readonly appId: string;
  readonly appKey: string;
  readonly [key: string]: string;
}

/**
 * Decides a WebSocket `$connect`. The path rewrite in front of API Gateway turns pusher-js's
 * `/app/{key}?protocol=7&...` into `?appKey={key}&protocol=7&...`. A store outage throws (API Gateway
 * answers 500 and the client retries); only a definite answer becomes a refusal.
 */
export async function decideWebSocketConnect(
  query: Readonly<Record<string, string | undefined>> | null | undefined,
  resolver: AppResolver,
): Promise<ConnectDecision> {
  const appKey = query?.appKey || undefined;
  if (!appKey) return { allow: false, reason: 'missing-key', appKey };
  const protocol = query?.protocol;
  if (protocol !== undefined && protocol !== PUSHER_PROTOCOL_VERSION) {
    return { allow: false, reason: 'unsupported-protocol', appKey };
  }
  const app = await resolver.byKey(appKey);
  if (!app) return { allow: false, reason: 'unknown-key', appKey };
  if (!app.enabled) return { allow: false, reason: 'app-disabled', appKey };
  return { allow: true, app };
}

/** The IAM policy answer for a decision, scoped to the `$connect` method ARN. */
export function connectAuthorizerResult(
  event: Pick<WsConnectAuthorizerEvent, 'methodArn'>,
  decision: ConnectDecision,
): APIGatewayAuthorizerResult {
  const effect = decision.allow ? 'Allow' : 'Deny';
  const result: APIGatewayAuthorizerResult = {
    principalId: decision.allow ? decision.app.key : 'anonymous',
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: event.methodArn }],
    },
  };
  if (decision.allow) {
    const context: ConnectAuthorizerContext = { appId: decision.app.id, appKey: decision.app.key };
    result.context = context;
  }
  return result;
}
