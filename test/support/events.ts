/**
 * Builders for the events API Gateway hands to our Lambdas. Each starts from a documented example in
 * test/fixtures/events/ (see the README there for sources and for what is confirmed) and overrides only the
 * fields a test cares about, so every other documented field stays as AWS shows it.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { APIGatewayEventRequestContextV2, APIGatewayProxyEventV2 } from 'aws-lambda';
import type {
  HttpAuthorizerEvent,
  HttpProxyEventWithAuthorizer,
  WsAuthorizerContext,
  WsConnectAuthorizerEvent,
  WsProxyEvent,
  WsRequestContext,
} from '../../src/gateway/events.js';
import {
  isResponse,
  loadViewerRequestFunction,
  requestTarget,
  viewerRequestEvent,
} from '../../src/local/edge-function.js';
import type { CapturedRequest } from './capture-server.js';

// ---------------------------------------------------------------------------------------------------------
// Fixtures

interface EventFixtures {
  'http-authorizer-request-v2': HttpAuthorizerEvent;
  'http-proxy-v2': APIGatewayProxyEventV2 & { requestContext: { authorizer?: { lambda: unknown } } };
  'ws-connect-authorizer-request': WsConnectAuthorizerEvent;
  'ws-connect-proxy': WsProxyEvent;
  'ws-message-proxy': WsProxyEvent;
  'ws-disconnect-proxy': WsProxyEvent;
}

const fixtureText = new Map<string, string>();

/** A fresh deep copy of a documented example event from test/fixtures/events/. */
export function eventFixture<Name extends keyof EventFixtures>(name: Name): EventFixtures[Name] {
  let text = fixtureText.get(name);
  if (text === undefined) {
    text = readFileSync(new URL(`../fixtures/events/${name}.json`, import.meta.url), 'utf8');
    fixtureText.set(name, text);
  }
  return JSON.parse(text) as EventFixtures[Name];
}

// ---------------------------------------------------------------------------------------------------------
// Query strings

type Pairs = [name: string, value: string][];

function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Decoded name/value pairs in order; `+` stays `+` (API Gateway's handling of it is unconfirmed). */
function parseQuery(rawQueryString: string): Pairs {
  return rawQueryString
    .split('&')
    .filter((part) => part !== '')
    .map((part) => {
      const equals = part.indexOf('=');
      return equals < 0
        ? [decodeComponent(part), '']
        : [decodeComponent(part.slice(0, equals)), decodeComponent(part.slice(equals + 1))];
    });
}

function groupValues(pairs: Pairs): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const [name, value] of pairs) {
    const values = groups.get(name);
    if (values) values.push(value);
    else groups.set(name, [value]);
  }
  return groups;
}

/** HTTP API (payload 2.0) `queryStringParameters`: decoded, repeated names joined with commas. */
export function commaJoinedQueryParameters(rawQueryString: string): Record<string, string> {
  const joined: Record<string, string> = {};
  for (const [name, values] of groupValues(parseQuery(rawQueryString))) joined[name] = values.join(',');
  return joined;
}

function splitUrl(url: string): { path: string; rawQueryString: string } {
  const question = url.indexOf('?');
  return question < 0
    ? { path: url, rawQueryString: '' }
    : { path: url.slice(0, question), rawQueryString: url.slice(question + 1) };
}

// ---------------------------------------------------------------------------------------------------------
// HTTP API (payload 2.0)

/** The Pusher HTTP API routes as HTTP API route templates. */
const PUSHER_ROUTES = [
  'POST /apps/{appId}/events',
  'POST /apps/{appId}/batch_events',
  'GET /apps/{appId}/channels',
  'GET /apps/{appId}/channels/{channelName}',
  'GET /apps/{appId}/channels/{channelName}/users',
  'POST /apps/{appId}/users/{userId}/terminate_connections',
] as const;

/** Catch-all for other paths under an app, as a deployment might route them. */
const APP_PROXY_ROUTE = 'ANY /apps/{appId}/{proxy+}';

interface MatchedRoute {
  routeKey: string;
  pathParameters: Record<string, string>;
}

function matchTemplate(template: string, segments: string[]): Record<string, string> | undefined {
  const parts = template.split('/');
  const greedy = parts.at(-1)?.endsWith('+}') ?? false;
  if (greedy ? segments.length < parts.length : segments.length !== parts.length) return undefined;
  const parameters: Record<string, string> = {};
  for (const [index, part] of parts.entries()) {
    const segment = segments[index]!;
    if (!part.startsWith('{')) {
      if (part !== segment) return undefined;
    } else if (part.endsWith('+}')) {
      parameters[part.slice(1, -2)] = decodeComponent(segments.slice(index).join('/'));
    } else {
      parameters[part.slice(1, -1)] = decodeComponent(segment);
    }
  }
  return parameters;
}

/** The route API Gateway would select for a path after the stage, with its path parameters. */
function matchPusherRoute(method: string, path: string): MatchedRoute {
  const segments = path.split('/');
  for (const routeKey of PUSHER_ROUTES) {
    const [routeMethod, template] = routeKey.split(' ') as [string, string];
    const pathParameters = routeMethod === method ? matchTemplate(template, segments) : undefined;
    if (pathParameters) return { routeKey, pathParameters };
  }
  const pathParameters = matchTemplate(APP_PROXY_ROUTE.split(' ')[1]!, segments);
  return pathParameters
    ? { routeKey: APP_PROXY_ROUTE, pathParameters }
    : { routeKey: '$default', pathParameters: {} };
}

export interface HttpRequestOptions {
  method: string;
  /**
   * The path the client called after the stage, i.e. the path it signed (`/apps/1/events`). With a named
   * stage the event's `rawPath` becomes `/<stage>` + this, as API Gateway delivers it.
   */
  rawPath: string;
  /** The query string as sent (still percent-encoded), without `?`. */
  rawQueryString: string;
  /**
   * Request headers; names are lowercased as in real payload 2.0 events. `host` becomes the API's domain
   * and the gateway's `x-forwarded-*` and `x-amzn-trace-id` are added.
   */
  headers?: Record<string, string>;
  /** `$default` (the default, served at the root of the invoke URL) or a named stage. */
  stage?: string;
  /** Defaults to what the matched Pusher route template yields, e.g. `{ appId: '1' }`. */
  pathParameters?: Record<string, string>;
  /** Defaults to the matched Pusher route, e.g. `POST /apps/{appId}/events`. */
  routeKey?: string;
}

export interface HttpAuthorizerOptions extends HttpRequestOptions {
  /**
   * The authorizer's identity sources as selection expressions (`$request.querystring.x`,
   * `$request.header.x`); their values become `identitySource`. Missing ones are left out: on AWS a missing
   * identity source gets a 401 without invoking the authorizer.
   */
  identitySources?: readonly string[];
}

export interface HttpProxyOptions extends HttpRequestOptions {
  /** The raw body; absent for requests without one. */
  body?: string | Uint8Array;
  /** Deliver the body base64-encoded with `isBase64Encoded: true`, as API Gateway does for binary bodies. */
  isBase64Encoded?: boolean;
}

export const DEFAULT_HTTP_IDENTITY_SOURCES = [
  '$request.querystring.auth_key',
  '$request.querystring.auth_signature',
] as const;

/** Fields HTTP API authorizer and integration events share. */
interface HttpEventCommon {
  routeKey: string;
  rawPath: string;
  rawQueryString: string;
  cookies?: string[];
  headers?: Record<string, string | undefined>;
  queryStringParameters?: Record<string, string | undefined>;
  pathParameters?: Record<string, string | undefined>;
  requestContext: APIGatewayEventRequestContextV2;
}

/** Headers as payload 2.0 carries them: lowercase names, repeats comma-joined, cookies split out. */
function gatewayHeaders(
  headerPairs: Pairs,
  requestContext: APIGatewayEventRequestContextV2,
): { headers: Record<string, string>; cookies: string[] } {
  const headers: Record<string, string> = {
    'x-amzn-trace-id': `Root=1-${Math.floor(requestContext.timeEpoch / 1000).toString(16)}-${randomBytes(12).toString('hex')}`,
    'x-forwarded-for': requestContext.http.sourceIp,
    'x-forwarded-port': '443',
    'x-forwarded-proto': 'https',
  };
  const cookies: string[] = [];
  for (const [name, values] of groupValues(headerPairs.map(([name, value]) => [name.toLowerCase(), value]))) {
    // The gateway answers the connection itself: hop-by-hop headers never reach the event.
    if (name === 'connection') continue;
    if (name === 'cookie') {
      cookies.push(
        ...values.flatMap((value) => value.split(';').map((cookie) => cookie.trim())).filter(Boolean),
      );
      continue;
    }
    headers[name] = values.join(',');
  }
  headers.host = requestContext.domainName;
  return { headers, cookies };
}

/** `arn:aws:execute-api:<region>:<account>:<api-id>` of a documented ARN. */
function executeApiArnPrefix(arn: string): string {
  return arn.slice(0, arn.indexOf('/'));
}

function stagePrefixed(stage: string, path: string): string {
  return stage === '$default' ? path : `/${stage}${path}`;
}

function applyHttpRequest(event: HttpEventCommon, options: HttpRequestOptions, headerPairs: Pairs): void {
  const method = options.method.toUpperCase();
  const stage = options.stage ?? '$default';
  const route = matchPusherRoute(method, options.rawPath);
  const pathParameters = options.pathParameters ?? route.pathParameters;
  const queryStringParameters = commaJoinedQueryParameters(options.rawQueryString);
  const rawPath = stagePrefixed(stage, options.rawPath);
  const { requestContext } = event;
  const { headers, cookies } = gatewayHeaders(headerPairs, requestContext);

  event.routeKey = options.routeKey ?? route.routeKey;
  event.rawPath = rawPath;
  event.rawQueryString = options.rawQueryString;
  event.headers = headers;
  if (cookies.length > 0) event.cookies = cookies;
  else delete event.cookies;
  if (Object.keys(queryStringParameters).length > 0) event.queryStringParameters = queryStringParameters;
  else delete event.queryStringParameters;
  if (Object.keys(pathParameters).length > 0) event.pathParameters = pathParameters;
  else delete event.pathParameters;

  requestContext.routeKey = event.routeKey;
  requestContext.stage = stage;
  requestContext.http.method = method;
  requestContext.http.path = rawPath;
  requestContext.http.userAgent = headers['user-agent'] ?? requestContext.http.userAgent;
}

function identitySourceValues(event: HttpEventCommon, expressions: readonly string[]): string[] {
  return expressions
    .map((expression) => {
      const [, location, name] = /^\$request\.(querystring|header)\.(.+)$/.exec(expression) ?? [];
      if (location === 'querystring') return event.queryStringParameters?.[name!];
      if (location === 'header') return event.headers?.[name!.toLowerCase()];
      throw new Error(`identity source not supported by the test builder: ${expression}`);
    })
    .filter((value): value is string => value !== undefined && value !== '');
}

function buildHttpAuthorizerEvent(options: HttpAuthorizerOptions, headerPairs: Pairs): HttpAuthorizerEvent {
  const event = eventFixture('http-authorizer-request-v2');
  applyHttpRequest(event, options, headerPairs);
  const { requestContext } = event;
  event.routeArn = `${executeApiArnPrefix(event.routeArn)}/${requestContext.stage}/${requestContext.http.method}${options.rawPath}`;
  event.identitySource = identitySourceValues(
    event,
    options.identitySources ?? DEFAULT_HTTP_IDENTITY_SOURCES,
  );
  return event;
}

function buildHttpProxyEvent<TContext>(
  options: HttpProxyOptions & { authorizerContext?: TContext },
  headerPairs: Pairs,
): APIGatewayProxyEventV2 | HttpProxyEventWithAuthorizer<TContext> {
  const event = eventFixture('http-proxy-v2');
  applyHttpRequest(event, options, headerPairs);
  const isBase64Encoded = options.isBase64Encoded ?? false;
  event.isBase64Encoded = isBase64Encoded;
  if (options.body === undefined) delete event.body;
  else event.body = Buffer.from(options.body).toString(isBase64Encoded ? 'base64' : 'utf8');
  if (options.authorizerContext === undefined) delete event.requestContext.authorizer;
  else event.requestContext.authorizer = { lambda: options.authorizerContext };
  return event;
}

function pairsOf(headers: Record<string, string> = {}): Pairs {
  return Object.entries(headers);
}

/** HTTP API Lambda authorizer input (payload 2.0) for a request. It never carries a body. */
export function httpAuthorizerEvent(options: HttpAuthorizerOptions): HttpAuthorizerEvent {
  return buildHttpAuthorizerEvent(options, pairsOf(options.headers));
}

/** HTTP API Lambda integration event (payload 2.0); the authorizer's context lands at `authorizer.lambda`. */
export function httpProxyEvent<TContext>(
  options: HttpProxyOptions & { authorizerContext: TContext },
): HttpProxyEventWithAuthorizer<TContext>;
export function httpProxyEvent(options: HttpProxyOptions): APIGatewayProxyEventV2;
export function httpProxyEvent<TContext>(
  options: HttpProxyOptions & { authorizerContext?: TContext },
): APIGatewayProxyEventV2 | HttpProxyEventWithAuthorizer<TContext> {
  return buildHttpProxyEvent(options, pairsOf(options.headers));
}

export interface CapturedRequestEventOptions {
  stage?: string;
  /** Deliver the proxy event's body base64-encoded with `isBase64Encoded: true`. */
  isBase64Encoded?: boolean;
  routeKey?: string;
  pathParameters?: Record<string, string>;
  identitySources?: readonly string[];
}

/**
 * The authorizer event and the integration event API Gateway would produce for a captured request: the
 * request's path (what the client signed), raw query string, headers (repeats kept apart until joined) and
 * exact body bytes.
 */
export function httpEventsFromCapturedRequest(
  captured: CapturedRequest,
  options?: CapturedRequestEventOptions,
): { authorizerEvent: HttpAuthorizerEvent; proxyEvent: APIGatewayProxyEventV2 };
export function httpEventsFromCapturedRequest<TContext>(
  captured: CapturedRequest,
  options: CapturedRequestEventOptions & { authorizerContext: TContext },
): { authorizerEvent: HttpAuthorizerEvent; proxyEvent: HttpProxyEventWithAuthorizer<TContext> };
export function httpEventsFromCapturedRequest<TContext>(
  captured: CapturedRequest,
  options: CapturedRequestEventOptions & { authorizerContext?: TContext } = {},
): {
  authorizerEvent: HttpAuthorizerEvent;
  proxyEvent: APIGatewayProxyEventV2 | HttpProxyEventWithAuthorizer<TContext>;
} {
  const { path, rawQueryString } = splitUrl(captured.url);
  const headerPairs: Pairs = [];
  for (let index = 0; index + 1 < captured.rawHeaders.length; index += 2) {
    headerPairs.push([captured.rawHeaders[index]!, captured.rawHeaders[index + 1]!]);
  }
  const request = { ...options, method: captured.method, rawPath: path, rawQueryString };
  return {
    authorizerEvent: buildHttpAuthorizerEvent(request, headerPairs),
    proxyEvent: buildHttpProxyEvent(
      { ...request, body: captured.body.length > 0 ? captured.body : undefined },
      headerPairs,
    ),
  };
}

// ---------------------------------------------------------------------------------------------------------
// WebSocket API

export const PUSHER_JS_VERSION = '8.6.0';

/**
 * The `$connect` query for pusher-js 8.6.0 after the path rewrite in front of API Gateway:
 * `/app/{key}?protocol=7&client=js&version=8.6.0&flash=false` → `/?appKey={key}&protocol=7&…`.
 * An override of `undefined` removes that parameter.
 */
export function pusherJsConnectQuery(
  key: string,
  overrides: Record<string, string | undefined> = {},
): Record<string, string> {
  const query: Record<string, string | undefined> = {
    appKey: key,
    protocol: '7',
    client: 'js',
    version: PUSHER_JS_VERSION,
    flash: 'false',
    ...overrides,
  };
  return Object.fromEntries(
    Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

/**
 * What `queryStringParameters` holds at `$connect` for a URL pusher-js opened, once the CloudFront Function in
 * front of API Gateway (`edge/rewrite-app-path.js`, the very file deployed) has moved the key from the path
 * (`/app/{key}`) into the query as `appKey`.
 */
export function connectQueryFromPusherJsUrl(url: string): Record<string, string> {
  const result = rewriteAtTheEdge(viewerRequestEvent('GET', url, {}, '127.0.0.1'));
  if (isResponse(result))
    throw new Error(`the edge answers ${result.statusCode} to ${url}: not a pusher-js connect path`);
  // Single-value map: like REST, the last of repeated names wins (multiValue* keeps them all).
  return Object.fromEntries(parseQuery(splitUrl(requestTarget(result)).rawQueryString));
}

const rewriteAtTheEdge = loadViewerRequestFunction();

/** A connection id shaped like API Gateway's (16 base64 characters ending in `=`). */
export function newConnectionId(): string {
  return randomBytes(11).toString('base64').replace(/[+/]/g, 'A');
}

function multiValued(map: Record<string, string>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(map).map(([name, value]) => [name, [value]]));
}

interface ConnectRequest {
  query?: Record<string, string>;
  headers?: Record<string, string>;
}

/** Query and headers of a `$connect` request; WebSocket events keep the header names' spelling. */
function applyConnectRequest(
  event: {
    headers?: Record<string, string | undefined> | null;
    multiValueHeaders?: Record<string, string[] | undefined> | null;
    queryStringParameters?: Record<string, string | undefined>;
    multiValueQueryStringParameters?: Record<string, string[] | undefined>;
  },
  request: ConnectRequest,
): void {
  if (request.headers) {
    const replaced = new Set(Object.keys(request.headers).map((name) => name.toLowerCase()));
    const kept = Object.entries(event.headers ?? {}).filter(
      (entry): entry is [string, string] => !replaced.has(entry[0].toLowerCase()) && entry[1] !== undefined,
    );
    const headers = { ...Object.fromEntries(kept), ...request.headers };
    event.headers = headers;
    event.multiValueHeaders = multiValued(headers);
  }
  if (!request.query) return;
  if (Object.keys(request.query).length > 0) {
    event.queryStringParameters = { ...request.query };
    event.multiValueQueryStringParameters = multiValued(request.query);
  } else {
    delete event.queryStringParameters;
    delete event.multiValueQueryStringParameters;
  }
}

function applyConnection(
  requestContext: Pick<WsRequestContext, 'connectionId' | 'stage'>,
  connection: { connectionId?: string; stage?: string },
): void {
  requestContext.connectionId = connection.connectionId ?? newConnectionId();
  if (connection.stage !== undefined) requestContext.stage = connection.stage;
}

export interface WsConnectAuthorizerOptions {
  /** The query after the rewrite; see `pusherJsConnectQuery`. An empty query leaves both query maps out. */
  query: Record<string, string>;
  /** Merged over the documented upgrade headers, replacing any of the same name. */
  headers?: Record<string, string>;
  /** Defaults to a fresh id. */
  connectionId?: string;
  /** Defaults to the documented stage, `default`. */
  stage?: string;
}

/** The input of the WebSocket `$connect` REQUEST authorizer. It never carries a body. */
export function wsConnectAuthorizerEvent(options: WsConnectAuthorizerOptions): WsConnectAuthorizerEvent {
  const event = eventFixture('ws-connect-authorizer-request');
  applyConnection(event.requestContext, options);
  applyConnectRequest(event, options);
  event.methodArn = `${executeApiArnPrefix(event.methodArn)}/${event.requestContext.stage}/$connect`;
  return event;
}

export type WsRouteKey = '$connect' | '$default' | '$disconnect';

const WS_ROUTE_FIXTURES = {
  $connect: 'ws-connect-proxy',
  $default: 'ws-message-proxy',
  $disconnect: 'ws-disconnect-proxy',
} as const satisfies Record<WsRouteKey, keyof EventFixtures>;

export interface WsProxyOptions extends ConnectRequest {
  routeKey: WsRouteKey;
  connectionId: string;
  /** The message; only `$default` (MESSAGE) events carry one. */
  body?: string;
  /**
   * What the `$connect` authorizer returned: `principalId` and its context, stringified here as API Gateway
   * does. Omitted: the documented example context stays.
   */
  authorizer?: { principalId: string } & Record<string, string | number | boolean>;
  stage?: string;
}

/**
 * A WebSocket Lambda proxy integration event. `query` and `headers` apply to `$connect` only: later routes
 * no longer see them.
 */
export function wsProxyEvent(options: WsProxyOptions): WsProxyEvent {
  const { routeKey } = options;
  if (options.body !== undefined && routeKey !== '$default') {
    throw new Error(`${routeKey} events carry no body; only $default (MESSAGE) does`);
  }
  if ((options.query || options.headers) && routeKey !== '$connect') {
    throw new Error(`${routeKey} events carry no query string or client headers; only $connect does`);
  }
  const event = eventFixture(WS_ROUTE_FIXTURES[routeKey]);
  applyConnection(event.requestContext, options);
  applyConnectRequest(event, options);
  if (options.body !== undefined) event.body = options.body;
  if (options.authorizer) {
    event.requestContext.authorizer = Object.fromEntries(
      Object.entries(options.authorizer).map(([name, value]) => [name, String(value)]),
    ) as WsAuthorizerContext;
  }
  return event;
}
