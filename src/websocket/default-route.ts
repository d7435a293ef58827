import type { App } from '../apps/app.js';
import type { AppResolver } from '../apps/resolver.js';
import { cleanUpConnections } from '../cleanup/cleanup.js';
import type { GatewayContext, MessageContext } from '../gateway/context.js';
import { type MessageDeadline, messageDeadline, OUT_OF_TIME, withinDeadline } from '../gateway/deadline.js';
import type { WsProxyEvent } from '../gateway/events.js';
import { closeWithFrame } from '../gateway/management-api.js';
import {
  type Frame,
  pong,
  pusherError,
  REFUSAL_CODES,
  refusal,
  subscriptionError,
} from '../protocol/frames.js';
import { FAN_OUT_DEFAULTS, type FanOutOptions } from '../publish/fan-out.js';
import { getConnection } from '../state/connections.js';
import { clientEvent } from './client-events.js';
import { type ClientMessage, parseClientMessage } from './messages.js';
import { NO_REPLY, type Outcome, UNKNOWN_CONNECTION } from './outcome.js';
import { signin } from './signin.js';
import { subscribe, unsubscribe } from './subscriptions.js';

/**
 * `$default`: one client message, routed on its `event`. Returns the frame that answers the sender (the
 * route response) or undefined. Never throws: a bad message or a failing dependency becomes an error frame,
 * and so does work not done in time (`remainingMs`, the Lambda's: see `MessageDeadline`).
 * `pusher:ping` touches nothing but the message.
 */
export async function handleMessage(
  context: MessageContext,
  resolver: AppResolver,
  event: WsProxyEvent,
  remainingMs: number,
  fanOut: FanOutOptions = FAN_OUT_DEFAULTS,
): Promise<Frame | undefined> {
  const message = parseClientMessage(event.body);
  if (message.kind === 'ping') return pong();
  const { connectionId, authorizer } = event.requestContext;
  if (message.kind === 'invalid') {
    logInvalidOnce(context, connectionId, message.reason);
    return pusherError(message.reason, null);
  }
  // Refused at $connect: the greeter is closing it.
  if (authorizer?.refusal !== undefined) return undefined;
  const deadline = messageDeadline(context.now(), remainingMs);
  const logLateFailure = (error: unknown) =>
    context.logger.error('message failed after its answer', { connectionId, error: String(error) });
  // Never holds the answer past its deadline: what it leaves is found again (410, sweeper).
  const houseKeep = (outcome: Outcome) =>
    (async () => {
      if (outcome.unknownConnection) await context.connections.disconnect(connectionId);
      if (outcome.gone.length > 0) await cleanUpConnections(context, outcome.gone);
    })();
  const late = ({ result, error }: { readonly result?: Outcome; readonly error?: unknown }) => {
    if (error !== undefined) logLateFailure(error);
    // Work done past its answer still closes what it found unknown and cleans up what it found gone.
    else if (result !== undefined) houseKeep(result).catch(logLateFailure);
  };
  try {
    const routed = route(
      { ...context, deadline },
      resolver,
      connectionId,
      authorizer?.appId,
      message,
      fanOut,
    );
    const outcome = await withinDeadline(routed, deadline, context.now(), late);
    if (outcome === OUT_OF_TIME) {
      context.logger.error('message out of time: answered before the Lambda timeout', {
        connectionId,
        event: message.kind,
        promised: deadline.promised,
      });
      return outOfTimeAnswer(message, deadline);
    }
    logRefusal(context, connectionId, outcome.reply);
    await withinDeadline(houseKeep(outcome), deadline, context.now(), ({ error }) => {
      if (error !== undefined) logLateFailure(error);
    });
    return outcome.reply;
  } catch (error) {
    context.logger.error('message failed', { connectionId, event: message.kind, error: String(error) });
    return failureAnswer(message);
  }
}

/**
 * Work not done by `answerBy`: a subscribe not yet promised is answered `ServerError` (it is being taken
 * back); one whose roster went out, and any other message, get no answer rather than one that may be untrue
 * (a client event may have been delivered, a signin recorded).
 */
function outOfTimeAnswer(
  message: Exclude<ClientMessage, { kind: 'ping' | 'invalid' }>,
  deadline: MessageDeadline,
): Frame | undefined {
  return message.kind === 'subscribe' && !deadline.promised ? failureAnswer(message) : undefined;
}

/** What a client is told when its message could not be handled: try again. */
function failureAnswer(message: Exclude<ClientMessage, { kind: 'ping' | 'invalid' }>): Frame {
  return message.kind === 'subscribe'
    ? subscriptionError(
        message.channel,
        'ServerError',
        'The subscription could not be recorded; try again',
        503,
      )
    : pusherError('The server could not handle the message; try again', null);
}

async function route(
  context: MessageContext,
  resolver: AppResolver,
  connectionId: string,
  authorizedAppId: string | undefined,
  message: Exclude<ClientMessage, { kind: 'ping' | 'invalid' }>,
  fanOut: FanOutOptions,
): Promise<Outcome> {
  // The authorizer context names the app; where a deployment does not pass it on, the record does.
  const appId = authorizedAppId ?? (await getConnection(context.state, connectionId))?.appId;
  if (appId === undefined) return UNKNOWN_CONNECTION;
  if (message.kind === 'unsubscribe') return unsubscribe(context, appId, connectionId, message.channel);
  const app = await usableApp(context, resolver, connectionId, appId);
  if (app === undefined) return NO_REPLY;
  switch (message.kind) {
    case 'subscribe':
      return subscribe(context, app, connectionId, message);
    case 'signin':
      return signin(context, app, connectionId, message);
    case 'client-event':
      return clientEvent(context, app, connectionId, message, fanOut);
  }
}

/** The app, or undefined after closing the connection of an app deleted or disabled since it connected. */
async function usableApp(
  context: GatewayContext,
  resolver: AppResolver,
  connectionId: string,
  appId: string,
): Promise<App | undefined> {
  const app = await resolver.byId(appId);
  if (app?.enabled) return app;
  const code = app === undefined ? REFUSAL_CODES.unknownApp : REFUSAL_CODES.appDisabled;
  context.logger.info('connection closed: app gone or disabled', { connectionId, appId, code });
  await closeWithFrame(context.connections, connectionId, refusal(code));
  return undefined;
}

/** Connections already logged for a malformed message in this container; bounded, so a flood costs no memory. */
const loggedInvalid = new Set<string>();
const MAX_LOGGED_INVALID = 1_000;

/**
 * A malformed message is the client's mistake, answered with `pusher:error`: logged at INFO once per connection
 * and container (the reason only, never the message), so that a client repeating it cannot flood the logs.
 */
function logInvalidOnce(context: GatewayContext, connectionId: string, reason: string): void {
  if (loggedInvalid.has(connectionId)) return;
  if (loggedInvalid.size >= MAX_LOGGED_INVALID) loggedInvalid.clear();
  loggedInvalid.add(connectionId);
  context.logger.info('message refused as malformed', { connectionId, reason });
}

/** Refused subscriptions and signins, for operators: the reason's type and code, never an auth value. */
function logRefusal(context: GatewayContext, connectionId: string, reply: Frame | undefined): void {
  if (reply?.event !== 'pusher:error' && reply?.event !== 'pusher:subscription_error') return;
  const { type, status, code } = reply.data as { type?: string; status?: number; code?: number | null };
  context.logger.info('message refused', {
    connectionId,
    reply: reply.event,
    channel: reply.channel,
    type,
    status,
    code,
  });
}
