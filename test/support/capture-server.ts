import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One HTTP request exactly as it reached the server. */
export interface CapturedRequest {
  readonly method: string;
  /** The request target as sent: path and raw (still percent-encoded) query string. */
  readonly url: string;
  /** Header names lowercased, repeated headers merged the Node way. */
  readonly headers: IncomingHttpHeaders;
  /** Name/value pairs in wire order with the client's spelling; keeps repeated headers apart. */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
}

export interface CaptureResponse {
  readonly status: number;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface CaptureServerOptions {
  /** What every request is answered with; a function may answer per request, also asynchronously. Default `200 {}`. */
  readonly response?:
    | CaptureResponse
    | ((request: CapturedRequest) => CaptureResponse | Promise<CaptureResponse>);
}

const OK_EMPTY_OBJECT: CaptureResponse = {
  status: 200,
  body: '{}',
  headers: { 'content-type': 'application/json' },
};

/**
 * A loopback HTTP server that records each request and answers it, so a real client (the `pusher` SDK)
 * can be pointed at it and its requests turned into API Gateway events.
 */
export class CaptureServer {
  private readonly server: Server;
  private readonly respond: (request: CapturedRequest) => CaptureResponse | Promise<CaptureResponse>;
  private readonly unclaimed: CapturedRequest[] = [];
  private readonly waiting: ((request: CapturedRequest) => void)[] = [];
  private listeningPort: number | undefined;

  constructor(options: CaptureServerOptions = {}) {
    const response = options.response ?? OK_EMPTY_OBJECT;
    this.respond = typeof response === 'function' ? response : () => response;
    this.server = createServer((request, reply) => {
      readBody(request)
        .then(async (body) => {
          const captured: CapturedRequest = {
            method: request.method ?? '',
            url: request.url ?? '',
            headers: request.headers,
            rawHeaders: request.rawHeaders,
            body,
          };
          const answer = await this.respond(captured);
          reply.writeHead(answer.status, answer.headers).end(answer.body);
          this.deliver(captured);
        })
        .catch(() => reply.destroy());
    });
  }

  /** Listens on 127.0.0.1 at a random free port. */
  async start(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.listeningPort = (this.server.address() as AddressInfo).port;
    return this;
  }

  get host(): string {
    return '127.0.0.1';
  }

  get port(): number {
    if (this.listeningPort === undefined) throw new Error('CaptureServer: call start() first');
    return this.listeningPort;
  }

  /** The oldest request not yet taken, waiting for one to arrive if none has. */
  next(timeoutMs = 5_000): Promise<CapturedRequest> {
    const ready = this.unclaimed.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(take), 1);
        reject(new Error(`CaptureServer: no request within ${timeoutMs} ms`));
      }, timeoutMs);
      const take = (request: CapturedRequest) => {
        clearTimeout(timer);
        resolve(request);
      };
      this.waiting.push(take);
    });
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) =>
      this.server.close((error) => (error ? reject(error) : resolve())),
    );
  }

  private deliver(request: CapturedRequest): void {
    const waiter = this.waiting.shift();
    if (waiter) waiter(request);
    else this.unclaimed.push(request);
  }
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
