import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What the proxy does to each request while a fault is set:
 * - `error`: answers as DynamoDB does (status, `__type`), without forwarding;
 * - `reset`: destroys the connection (a network failure);
 * - `hang`: accepts the request and never answers (a timeout);
 * - `delay`: forwards after a pause (to make calls overlap).
 */
export type DynamoDbFault =
  | { readonly kind: 'error'; readonly status: number; readonly type: string }
  | { readonly kind: 'reset' }
  | { readonly kind: 'hang' }
  | { readonly kind: 'delay'; readonly ms: number };

/** The failures DynamoDB clients meet in practice. */
export const DYNAMODB_FAULTS = {
  throttling: { kind: 'error', status: 400, type: 'ThrottlingException' },
  throughputExceeded: { kind: 'error', status: 400, type: 'ProvisionedThroughputExceededException' },
  accessDenied: { kind: 'error', status: 400, type: 'AccessDeniedException' },
  internalError: { kind: 'error', status: 500, type: 'InternalServerError' },
  serviceUnavailable: { kind: 'error', status: 503, type: 'ServiceUnavailable' },
  reset: { kind: 'reset' },
  hang: { kind: 'hang' },
} as const satisfies Record<string, DynamoDbFault>;

export interface FaultWindow {
  readonly after: number;
  readonly times: number;
  readonly operation?: string;
}

export interface DynamoDbProxy {
  /** Point a DynamoDB client here instead of at dynalite. */
  readonly endpoint: string;
  /** Requests received (forwarded or not), for one operation (`GetItem`, `Query`, ...) or all. */
  count(operation?: string): number;
  resetCounts(): void;
  /**
   * Applies a fault to every following request; `undefined` forwards again. With a `window`, only to the
   * `times` requests after the next `after` ones (to fail an operation halfway through), counting only
   * requests of `operation` when it is given.
   */
  setFault(fault: DynamoDbFault | undefined, window?: FaultWindow): void;
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of dynalite that counts DynamoDB operations (by `X-Amz-Target`) and can
 * inject the faults a real DynamoDB produces, so tests provoke failures through the real SDK
 * instead of mocking it. Any AWS JSON-protocol emulator can stand behind it (the embedded SQS too):
 * `errorTypePrefix` spells an injected error's `__type` as that service does.
 */
export async function startDynamoDbProxy(
  upstream: string,
  errorTypePrefix = 'com.amazonaws.dynamodb.v20120810#',
): Promise<DynamoDbProxy> {
  const target = new URL(upstream);
  const counts = new Map<string, number>();
  let fault: DynamoDbFault | undefined;
  /** Requests still to forward before the fault applies, and how many it then applies to. */
  let faultWindow: { after: number; times: number; operation?: string } | undefined;
  const faultFor = (operation: string): DynamoDbFault | undefined => {
    if (faultWindow === undefined) return fault;
    if (faultWindow.operation !== undefined && faultWindow.operation !== operation) return undefined;
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

  const forward = (incoming: IncomingMessage, outgoing: ServerResponse) => {
    const upstreamRequest = request(
      {
        host: target.hostname,
        port: target.port,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
      },
      (response) => {
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(outgoing);
      },
    );
    upstreamRequest.on('error', () => outgoing.destroy());
    incoming.pipe(upstreamRequest);
  };

  const server = createServer((incoming, outgoing) => {
    const operation =
      String(incoming.headers['x-amz-target'] ?? '')
        .split('.')
        .pop() || 'unknown';
    counts.set(operation, (counts.get(operation) ?? 0) + 1);
    const current = faultFor(operation);
    switch (current?.kind) {
      case undefined:
        return forward(incoming, outgoing);
      case 'delay':
        setTimeout(() => forward(incoming, outgoing), current.ms);
        return;
      case 'reset':
        incoming.socket.destroy();
        return;
      case 'hang':
        // Held until close(), which destroys every connection.
        incoming.resume();
        return;
      case 'error':
        incoming.resume();
        incoming.on('end', () => {
          outgoing.writeHead(current.status, { 'content-type': 'application/x-amz-json-1.0' });
          outgoing.end(
            JSON.stringify({
              __type: `${errorTypePrefix}${current.type}`,
              message: `Injected ${current.type}`,
            }),
          );
        });
        return;
    }
  });
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
