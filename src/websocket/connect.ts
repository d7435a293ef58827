import { AuthorizerContextError } from '../errors/errors.js';
import { quoteForMessage } from '../errors/format.js';
import type { WsAuthorizerContext, WsProxyEvent } from '../gateway/events.js';
import { decodeMaxConnections } from '../gateway/max-connections-context.js';
import type { StructuredLogger } from '../observability/logger.js';
import { isRefusalCode, REFUSAL_CODES, type RefusalCode } from '../protocol/frames.js';
import { admitConnection, releaseConnection } from '../state/connection-counter.js';
import { deleteConnection, putConnection } from '../state/connections.js';
import { putSweepEntry, type SweepPlan } from '../state/sweep-entries.js';
import type { StateTable } from '../state/table.js';
import type { GreeterInvoker } from './greeter.js';

export interface ConnectDeps {
  readonly state: StateTable;
  readonly greeter: GreeterInvoker;
  readonly logger: StructuredLogger;
  /** Epoch milliseconds. */
  readonly now: () => number;
  /** Where the connection is entered for the sweeper, which finds it if its `$disconnect` is lost. */
  readonly sweep: SweepPlan;
}

/** What `$connect` answers API Gateway: 200 opens the connection; anything else fails the upgrade. */
export interface ConnectResult {
  readonly statusCode: 200;
}

export type ConnectOutcome =
  | { readonly admitted: true }
  | { readonly admitted: false; readonly code: RefusalCode };

const OPEN: ConnectResult = Object.freeze({ statusCode: 200 });

/**
 * `$connect`, after the authorizer. A connection the authorizer marked refused, or over the app's
 * MaxConnections, is still opened: only then can the greeter post the `pusher:error` that stops pusher-js
 * from reconnecting. An admitted connection is counted and recorded before the greeter is started, so its
 * first message always finds its record. A failure of DynamoDB or Lambda throws: API Gateway fails the
 * upgrade and pusher-js retries with backoff.
 *
 * The app is not read again: the authorizer resolved it a few milliseconds earlier and its context carries
 * the app id and MaxConnections. Unknown keys and disabled apps are not checked again either: the authorizer
 * marks them refused (4001, 4003) instead of naming an app. A context that names neither a refusal nor a
 * well-formed app throws `AuthorizerContextError` (the upgrade fails with 500) rather than admit the
 * connection without a limit.
 */
export async function connect(deps: ConnectDeps, event: WsProxyEvent): Promise<ConnectResult> {
  const { requestContext } = event;
  const { connectionId, apiId, stage } = requestContext;
  const outcome = await admit(deps, event);
  if (!outcome.admitted) {
    deps.logger.info('connection refused', {
      connectionId,
      code: outcome.code,
      appKey: requestContext.authorizer?.appKey,
    });
    await deps.greeter.invoke({ connectionId, apiId, stage, refusal: outcome.code });
    return OPEN;
  }
  deps.logger.info('connection admitted', { connectionId, appId: requestContext.authorizer?.appId });
  try {
    await deps.greeter.invoke({ connectionId, apiId, stage });
  } catch (error) {
    await undoAdmission(deps, connectionId);
    throw error;
  }
  return OPEN;
}

async function admit(deps: ConnectDeps, event: WsProxyEvent): Promise<ConnectOutcome> {
  const { connectionId, authorizer } = event.requestContext;
  const marked = Number(authorizer?.refusal);
  if (isRefusalCode(marked)) return { admitted: false, code: marked };
  const app = admittedAppOf(authorizer);
  const connectedAtMs = deps.now();
  const admission = await admitConnection(deps.state, app.id, app.maxConnections, connectedAtMs);
  if (!admission.admitted) return { admitted: false, code: REFUSAL_CODES.overConnectionQuota };
  // Side by side: the sweep entry costs a write, not a round trip. Both settle before any undo, so that a
  // late write cannot land after it.
  const written = await Promise.allSettled([
    putConnection(deps.state, {
      connectionId,
      appId: app.id,
      connectedAtMs,
      bucket: admission.bucket,
      channels: [],
      user: undefined,
      // An authorizer older than webhooks passes none: the connection then raises none.
      webhooks: authorizer?.webhooks ?? '',
    }),
    putSweepEntry(deps.state, deps.sweep, connectionId, app.id, connectedAtMs),
  ]);
  const failed = written.find((outcome) => outcome.status === 'rejected');
  if (failed !== undefined) {
    // The record may have been written: it does not stay for a connection that is never opened. (A sweep
    // entry left behind is found gone and dropped by the sweeper.)
    await deleteConnection(deps.state, connectionId).catch(() => undefined);
    await releaseConnection(deps.state, app.id, admission.bucket).catch(() => undefined);
    throw failed.reason;
  }
  return { admitted: true };
}

/** The app id and MaxConnections the authorizer put in the context of a connection it did not refuse. */
function admittedAppOf(authorizer: WsAuthorizerContext | undefined): { id: string; maxConnections: number } {
  const id = authorizer?.appId;
  const maxConnections = decodeMaxConnections(authorizer?.maxConnections);
  if (!id) {
    throw new AuthorizerContextError(
      '$connect without appId in the authorizer context: is the $connect authorizer configured on the route?',
    );
  }
  if (maxConnections === undefined) {
    const received = authorizer?.maxConnections;
    throw new AuthorizerContextError(
      `$connect for app ${quoteForMessage(id)} without a valid maxConnections in the authorizer context ` +
        `(got ${received === undefined ? 'none' : quoteForMessage(String(received))}): ` +
        "an authorizer older than this $connect, or not this project's.",
    );
  }
  return { id, maxConnections };
}

/** The greeter could not be started: the upgrade fails, so the connection must not stay counted. */
async function undoAdmission(deps: ConnectDeps, connectionId: string): Promise<void> {
  try {
    const record = await deleteConnection(deps.state, connectionId);
    if (record) await releaseConnection(deps.state, record.appId, record.bucket);
  } catch (error) {
    deps.logger.error('undoing an admission failed', { connectionId, error: String(error) });
  }
}
