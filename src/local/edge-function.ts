import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createContext, Script } from 'node:vm';

/** The CloudFront Function serverless.yml deploys in front of the WebSocket API. */
export const EDGE_FUNCTION_FILE = fileURLToPath(new URL('../../edge/rewrite-app-path.js', import.meta.url));

/** A query parameter, header or cookie as CloudFront Functions represent it; duplicates fill `multiValue`. */
export interface CloudFrontValue {
  value: string;
  multiValue?: { value: string }[];
}

export type CloudFrontValues = Record<string, CloudFrontValue>;

export interface CloudFrontRequest {
  readonly method: string;
  uri: string;
  querystring: CloudFrontValues;
  headers: CloudFrontValues;
  cookies: CloudFrontValues;
}

export interface CloudFrontResponse {
  statusCode: number;
  statusDescription?: string;
  headers?: CloudFrontValues;
  /** A generated response's body (cloudfront-js-2.0). */
  body?: { encoding: 'text' | 'base64'; data: string };
}

/** A generated response's body as bytes. */
export function responseBody(response: CloudFrontResponse): Buffer {
  const { body } = response;
  return body === undefined
    ? Buffer.alloc(0)
    : Buffer.from(body.data, body.encoding === 'base64' ? 'base64' : 'utf8');
}

/** The `event` a viewer-request function receives (AWS docs, "CloudFront Functions event structure"). */
export interface ViewerRequestEvent {
  version: '1.0';
  context: {
    eventType: 'viewer-request';
    distributionDomainName?: string;
    distributionId?: string;
    requestId?: string;
  };
  viewer: { ip: string };
  request: CloudFrontRequest;
}

export type ViewerRequestFunction = (event: ViewerRequestEvent) => CloudFrontRequest | CloudFrontResponse;

/**
 * Evaluates the function file exactly as deployed, in an empty `node:vm` context: like the
 * CloudFront runtime it gets no `require`, no `process` and no module system, so a file that
 * leans on any of them fails here too.
 */
export function loadViewerRequestFunction(file: string = EDGE_FUNCTION_FILE): ViewerRequestFunction {
  const context = createContext({});
  new Script(readFileSync(file, 'utf8'), { filename: file }).runInContext(context);
  const handler: unknown = context.handler;
  if (typeof handler !== 'function') throw new Error(`${file} does not define function handler(event)`);
  return handler as ViewerRequestFunction;
}

export function isResponse(result: CloudFrontRequest | CloudFrontResponse): result is CloudFrontResponse {
  return 'statusCode' in result;
}

/**
 * The viewer-request event CloudFront builds for a request, from a raw request target such as
 * `/app/key?protocol=7`. Query values stay percent-encoded, as they arrive in the URL.
 */
export function viewerRequestEvent(
  method: string,
  target: string,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  viewerIp: string,
): ViewerRequestEvent {
  const queryStart = target.indexOf('?');
  const uri = queryStart === -1 ? target : target.slice(0, queryStart);
  const query = queryStart === -1 ? '' : target.slice(queryStart + 1);
  const headerValues = emptyValues();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name === 'cookie') continue;
    for (const single of Array.isArray(value) ? value : [value]) addValue(headerValues, name, single);
  }
  const cookies = emptyValues();
  for (const pair of splitPairs(String(headers.cookie ?? ''), /;\s*/))
    addValue(cookies, pair.name, pair.value);
  const querystring = emptyValues();
  for (const pair of splitPairs(query, /&/)) addValue(querystring, pair.name, pair.value);
  return {
    version: '1.0',
    context: { eventType: 'viewer-request' },
    viewer: { ip: viewerIp },
    request: { method, uri, querystring, headers: headerValues, cookies },
  };
}

/** The request target (`/path?query`) a CloudFront request object stands for. */
export function requestTarget(request: CloudFrontRequest): string {
  const parameters = Object.entries(request.querystring).flatMap(([name, field]) =>
    (field.multiValue ?? [field]).map(({ value }) => `${name}=${value}`),
  );
  return parameters.length === 0 ? request.uri : `${request.uri}?${parameters.join('&')}`;
}

/** No prototype, so a client's `__proto__=…` parameter is just a parameter. */
function emptyValues(): CloudFrontValues {
  return Object.create(null) as CloudFrontValues;
}

function splitPairs(text: string, separator: RegExp): { name: string; value: string }[] {
  return text
    .split(separator)
    .filter((part) => part !== '')
    .map((part) => {
      const equals = part.indexOf('=');
      return equals === -1
        ? { name: part, value: '' }
        : { name: part.slice(0, equals), value: part.slice(equals + 1) };
    });
}

function addValue(values: CloudFrontValues, name: string, value: string): void {
  const existing = values[name];
  if (existing === undefined) {
    values[name] = { value };
    return;
  }
  existing.multiValue ??= [{ value: existing.value }];
  existing.multiValue.push({ value });
}
