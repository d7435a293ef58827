import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import type { App } from '../apps/app.js';
import { MAX_APP_IDENTIFIER_LENGTH } from '../apps/identifier.js';
import type { AppResolver } from '../apps/index.js';
import type { WsConnectAuthorizerEvent } from '../gateway/events.js';
import { encodeMaxConnections } from '../gateway/max-connections-context.js';
import { REFUSAL_CODES, type RefusalCode } from '../protocol/frames.js';
import { encodeInterest, interestOf } from '../webhooks/interest.js';

/** The protocol version this server speaks (pusher-js sends `protocol=7`). */
export const PUSHER_PROTOCOL_VERSION = '7';

/** The protocol versions accepted: Pusher's current 7 and those before it that Pusher still serves (1–3 not). */
export const SUPPORTED_PROTOCOL_VERSIONS = { min: 4, max: 7 } as const;

export type ConnectRefusal =
  | 'missing-key'
  | 'unknown-key'
  | 'app-disabled'
  | 'invalid-protocol'
  | 'unsupported-protocol';

export type ConnectDecision =
  | { readonly allow: true; readonly app: App }
  | { readonly allow: false; readonly reason: ConnectRefusal; readonly appKey: string | undefined };

/**
 * Flat context on `$connect` and later routes (`requestContext.authorizer`). Never the secret. An admitted
 * client gets its app, the app's MaxConnections, which `$connect` enforces without reading the app again, and
 * the webhook event types its `$disconnect` raises
 * (encoded by `encodeMaxConnections`: -1 is unlimited); a refused one gets the Pusher code (as a string, as
 * API Gateway passes values on) that the greeter will send it before closing the connection.
 */
export type ConnectAuthorizerContext =
  | {
      readonly appId: string;
      readonly appKey: string;
      readonly maxConnections: string;
      /** The webhook event types the app asks for (`encodeInterest`), for the connection's record. */
      readonly webhooks: string;
    }
  | { readonly refusal: `${RefusalCode}`; readonly appKey: string };

/** The Pusher code each refusal reaches pusher-js with; a missing key has none (see `connectAuthorizerResult`). */
export const REFUSAL_CODE_OF: Readonly<Record<Exclude<ConnectRefusal, 'missing-key'>, RefusalCode>> = {
  'unknown-key': REFUSAL_CODES.unknownApp,
  'app-disabled': REFUSAL_CODES.appDisabled,
  'invalid-protocol': REFUSAL_CODES.invalidProtocol,
  'unsupported-protocol': REFUSAL_CODES.unsupportedProtocol,
};

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
  const protocol = protocolProblem(query?.protocol);
  if (protocol !== undefined) return { allow: false, reason: protocol, appKey };
  const app = await resolver.byKey(appKey);
  if (!app) return { allow: false, reason: 'unknown-key', appKey };
  if (!app.enabled) return { allow: false, reason: 'app-disabled', appKey };
  return { allow: true, app };
}

/** What is wrong with the `protocol` query parameter; undefined when it is absent or supported. */
function protocolProblem(protocol: string | undefined): ConnectRefusal | undefined {
  if (protocol === undefined) return undefined;
  if (!/^[0-9]{1,3}$/.test(protocol)) return 'invalid-protocol';
  const version = Number(protocol);
  const { min, max } = SUPPORTED_PROTOCOL_VERSIONS;
  return version >= min && version <= max ? undefined : 'unsupported-protocol';
}

/**
 * The IAM policy answer for a decision, scoped to the `$connect` method ARN. A refused client is allowed in,
 * marked with its refusal code: a failed upgrade would only make pusher-js retry forever, while a
 * `pusher:error` 4001/4003/4006/4007 posted by the greeter makes it stop. Only a request without a key is denied:
 * pusher-js always sends one (API Gateway already answers 401 without invoking anything when the identity
 * source is missing), so there is no Pusher client to tell.
 */
export function connectAuthorizerResult(
  event: Pick<WsConnectAuthorizerEvent, 'methodArn'>,
  decision: ConnectDecision,
): APIGatewayAuthorizerResult {
  if (decision.allow) {
    const { app } = decision;
    const context: ConnectAuthorizerContext = {
      appId: app.id,
      appKey: app.key,
      maxConnections: encodeMaxConnections(app.maxConnections),
      webhooks: encodeInterest(interestOf(app)),
    };
    return { ...policy(event, app.key, 'Allow'), context };
  }
  if (decision.reason === 'missing-key') return policy(event, 'anonymous', 'Deny');
  const context: ConnectAuthorizerContext = {
    refusal: `${REFUSAL_CODE_OF[decision.reason]}`,
    appKey: (decision.appKey ?? '').slice(0, MAX_APP_IDENTIFIER_LENGTH),
  };
  return { ...policy(event, 'anonymous', 'Allow'), context };
}

function policy(
  event: Pick<WsConnectAuthorizerEvent, 'methodArn'>,
  principalId: string,
  effect: 'Allow' | 'Deny',
): APIGatewayAuthorizerResult {
  return {
    principalId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: event.methodArn }],
    },
  };
}
