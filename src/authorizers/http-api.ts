import type { AppResolver } from '../apps/index.js';
import type { HttpAuthorizerEvent } from '../gateway/events.js';
import { type VerifyFailureReason, verifyRawRequest } from '../protocol/index.js';
import { signedPath } from '../protocol/signed-path.js';

/** Flat context handed to the route Lambda at `requestContext.authorizer.lambda`. */
export interface HttpAuthorizerContext {
  readonly appId: string;
  /** The `body_md5` the signature binds ('' when none was sent); the route must check the body against it. */
  readonly bodyMd5: string;
}

export type HttpAuthorizerRefusal = 'no-app-id' | 'unknown-app' | 'app-disabled' | VerifyFailureReason;

export type HttpAuthorizerDecision =
  | { readonly isAuthorized: true; readonly context: HttpAuthorizerContext }
  | { readonly isAuthorized: false; readonly reason: HttpAuthorizerRefusal; readonly appId?: string };

export interface HttpAuthorizerDeps {
  readonly resolver: AppResolver;
  /** Clock in milliseconds, for tests. */
  readonly now?: () => number;
}

/**
 * Lambda REQUEST authorizer for HTTP API routes `/apps/{appId}/...` (payload 2.0, simple responses).
 * It never sees the body, so it verifies the signature (which binds the client's `body_md5`) and leaves
 * `md5(body) == body_md5` to the route. A store outage throws, so API Gateway answers 500 and the SDK
 * retries, instead of a 403 that would look final.
 */
export async function authorizeHttpApiRequest(
  event: HttpAuthorizerEvent,
  deps: HttpAuthorizerDeps,
): Promise<HttpAuthorizerDecision> {
  const appId = event.pathParameters?.appId;
  if (!appId) return { isAuthorized: false, reason: 'no-app-id' };
  const app = await deps.resolver.byId(appId);
  if (!app) return { isAuthorized: false, reason: 'unknown-app', appId };
  const verdict = verifyRawRequest({
    method: event.requestContext.http.method,
    path: signedPath(event.rawPath, appId),
    rawQueryString: event.rawQueryString ?? '',
    skipBodyCheck: true,
    app,
    now: deps.now?.(),
  });
  if (!verdict.ok) return { isAuthorized: false, reason: verdict.reason, appId };
  if (!app.enabled) return { isAuthorized: false, reason: 'app-disabled', appId };
  // The value the verifier signed (decoded, name in any case), not API Gateway's case-sensitive
  // `queryStringParameters`: a client could send `BODY_MD5`, keep a valid signature, and hand the route ''.
  return { isAuthorized: true, context: { appId: app.id, bodyMd5: verdict.bodyMd5 ?? '' } };
}
