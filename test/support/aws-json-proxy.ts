import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What the proxy does to each request while a fault is set:
 * - `error`: answers as the service does (status, `__type`), without forwarding;
 * - `applied-error`: forwards, then answers with the error instead of the service's answer (an ambiguous
 *   write: applied, yet reported failed, as a timeout after DynamoDB committed);
 * - `reset`: destroys the connection (a network failure);
 * - `hang`: accepts the request and never answers (a timeout);
 * - `delay`: forwards after a pause (to make calls overlap).
 */
export type AwsFault =
  | { readonly kind: 'error'; readonly status: number; readonly type: string }
  | { readonly kind: 'applied-error'; readonly status: number; readonly type: string }
  | { readonly kind: 'reset' }
  | { readonly kind: 'hang' }
  | { readonly kind: 'delay'; readonly ms: number };

/** The failures DynamoDB clients meet in practice. */
export const DYNAMODB_FAULTS = {
  throttling: { kind: 'error', status: 400, type: 'ThrottlingException' },
  throughputExceeded: { kind: 'error', status: 400, type: 'ProvisionedThroughputExceededException' },
  accessDenied: { kind: 'error', status: 400, type: 'AccessDeniedException' },
  internalError: { kind: 'error', status: 500, type: 'InternalServerError' },
  internalErrorAfterApplying: { kind: 'applied-error', status: 500, type: 'InternalServerError' },
  serviceUnavailable: { kind: 'error', status: 503, type: 'ServiceUnavailable' },
  reset: { kind: 'reset' },
  hang: { kind: 'hang' },
} as const satisfies Record<string, AwsFault>;

/** The failures SQS clients meet in practice. */
export const SQS_FAULTS = {
  serviceUnavailable: { kind: 'error', status: 503, type: 'ServiceUnavailable' },
  reset: { kind: 'reset' },
} as const satisfies Record<string, AwsFault>;

export interface FaultWindow {
  readonly after: number;
  readonly times: number;
  readonly operation?: string;
  /** Counts only requests whose JSON body contains this text (one item's key, say). */
  readonly bodyIncludes?: string;
}

export interface AwsJsonProxy {
  /** Point the client here instead of at the emulator. */
  readonly endpoint: string;
  /** Requests received (forwarded or not), for one operation (`GetItem`, `Query`, ...) or all. */
  count(operation?: string): number;
  resetCounts(): void;
  /**
   * Applies a fault to every following request; `undefined` forwards again. With a `window`, only to the
   * `times` requests after the next `after` ones (to fail an operation halfway through), counting only
   * requests of `operation` when it is given.
   */
  setFault(fault: AwsFault | undefined, window?: FaultWindow): void;
  close(): Promise<void>;
}

/** A proxy in front of dynalite: DynamoDB's operations, and its faults as DynamoDB spells them. */
export function startDynamoDbProxy(upstream: string): Promise<AwsJsonProxy> {
  return startAwsJsonProxy(upstream, 'com.amazonaws.dynamodb.v20120810#');
}

/** A proxy in front of the embedded SQS: SQS's operations, and its faults as SQS spells them. */
export function startSqsProxy(upstream: string): Promise<AwsJsonProxy> {
  return startAwsJsonProxy(upstream, 'com.amazonaws.sqs#');
}

/**
 * An HTTP proxy in front of an AWS JSON-protocol emulator that counts operations (by `X-Amz-Target`) and can
 * inject the faults the real service produces, so tests provoke failures through the real SDK instead of
 * mocking it. `errorTypePrefix` spells an injected error's `__type` as that service does.
 */
async function startAwsJsonProxy(upstream: string, errorTypePrefix: string): Promise<AwsJsonProxy> {
  const target = new URL(upstream);
  const counts = new Map<string, number>();
  let fault: AwsFault | undefined;
  /** Requests still to forward before the fault applies, and how many it then applies to. */
  let faultWindow: { -readonly [K in keyof FaultWindow]: FaultWindow[K] } | undefined;
  const faultFor = (operation: string, body: string): AwsFault | undefined => {
    if (faultWindow === undefined) return fault;
    if (faultWindow.operation !== undefined && faultWindow.operation !== operation) return undefined;
    if (faultWindow.bodyIncludes !== undefined && !body.includes(faultWindow.bodyIncludes)) return undefined;
    if (faultWindow.after > 0) {
      faultWindow.after--;
      return undefined;
    }
    if (faultWindow.times > 0) {
      faultWindow.times--;
      return fault;
    }
    return undefined;
  };

  const forward = (
    incoming: IncomingMessage,
    body: Buffer,
    outgoing: ServerResponse,
    answer: (response: IncomingMessage) => void = (response) => {
      outgoing.writeHead(response.statusCode ?? 502, response.headers);
      response.pipe(outgoing);
    },
  ) => {
    const upstreamRequest = request(
      {
        host: target.hostname,
        port: target.port,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
      },
      answer,
    );
    upstreamRequest.on('error', () => outgoing.destroy());
    upstreamRequest.end(body);
  };
  const answerError = (
    outgoing: ServerResponse,
    error: { readonly status: number; readonly type: string },
  ) => {
    outgoing.writeHead(error.status, { 'content-type': 'application/x-amz-json-1.0' });
    outgoing.end(
      JSON.stringify({ __type: `${errorTypePrefix}${error.type}`, message: `Injected ${error.type}` }),
    );
  };

  const server = createServer((incoming, outgoing) => {
    const operation =
      String(incoming.headers['x-amz-target'] ?? '')
        .split('.')
        .pop() || 'unknown';
    counts.set(operation, (counts.get(operation) ?? 0) + 1);
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => respond(incoming, operation, Buffer.concat(chunks), outgoing));
  });
  const respond = (incoming: IncomingMessage, operation: string, body: Buffer, outgoing: ServerResponse) => {
    const current = faultFor(operation, body.toString('utf8'));
    switch (current?.kind) {
      case undefined:
        return forward(incoming, body, outgoing);
      case 'delay':
        setTimeout(() => forward(incoming, body, outgoing), current.ms);
        return;
      case 'reset':
        incoming.socket.destroy();
        return;
      case 'hang':
        // Held until close(), which destroys every connection.
        return;
      case 'error':
        return answerError(outgoing, current);
      case 'applied-error':
        return forward(incoming, body, outgoing, (response) => {
          response.resume();
          response.on('end', () => answerError(outgoing, current));
        });
    }
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    count: (operation) =>
      operation === undefined
        ? [...counts.values()].reduce((sum, n) => sum + n, 0)
        : (counts.get(operation) ?? 0),
    resetCounts: () => counts.clear(),
    setFault: (next, window) => {
      fault = next;
      faultWindow = window && { ...window };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An endpoint where nothing listens: connections are refused at once. */
export async function closedPortEndpoint(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
