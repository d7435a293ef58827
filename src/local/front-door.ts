import { createServer, type IncomingMessage, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { ClientFrameLimit, type ClientFrameLimits, closeFrame } from './client-frames.js';
import {
  type CloudFrontRequest,
  isResponse,
  requestTarget,
  responseBody,
  type ViewerRequestFunction,
  viewerRequestEvent,
} from './edge-function.js';
import type { LiveConnections } from './live-connections.js';
import { listen } from './net.js';

/** How long a client closed for an oversized frame has to answer our close frame before its socket goes. */
const CLOSE_GRACE_MS = 1_000;

export interface Upstream {
  readonly host: string;
  readonly port: number;
}

export interface FrontDoorOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** The CloudFront Function that rewrites WebSocket upgrades, as deployed. */
  readonly viewerRequest: ViewerRequestFunction;
  readonly websocket: Upstream;
  readonly http: Upstream;
  /** API Gateway's limits on what a client sends; over them the connection is closed with 1009. */
  readonly clientFrames: ClientFrameLimits;
  /** Told of every connection it relays, for the local `GetConnection`. */
  readonly live?: LiveConnections;
}

export interface FrontDoor {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The local stand-in for the CloudFront distribution: one port where WebSocket upgrades go through the
 * edge function to the WebSocket API, `/apps/...` requests go unchanged to the HTTP API, and the edge
 * function answers the rest (`GET /`, the health answer, or 404).
 */
export async function startFrontDoor(options: FrontDoorOptions): Promise<FrontDoor> {
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    if (!req.url?.startsWith('/apps/')) {
      // As CloudFront's default behaviour: the edge function answers what it answers itself (GET /).
      const result = options.viewerRequest(
        viewerRequestEvent(req.method ?? 'GET', req.url ?? '/', req.headers, req.socket.remoteAddress ?? ''),
      );
      if (isResponse(result) && result.statusCode === 200) {
        const headers = Object.fromEntries(
          Object.entries(result.headers ?? {}).map(([name, field]) => [name, field.value]),
        );
        res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : responseBody(result));
        return;
      }
      res
        .writeHead(404, { 'content-type': 'text/plain' })
        .end('Not found: WebSocket on /app/{key}, HTTP API on /apps/{appId}/..., health on /\n');
      return;
    }
    const forwarded = request(
      {
        ...options.http,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: hostOf(options.http) },
      },
      (upstream) => {
        res.writeHead(upstream.statusCode ?? 502, upstream.headers);
        upstream.pipe(res);
      },
    );
    forwarded.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('HTTP API unreachable\n');
    });
    req.pipe(forwarded);
  });
  server.on('upgrade', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const result = options.viewerRequest(
      viewerRequestEvent(req.method ?? 'GET', req.url ?? '/', req.headers, client.remoteAddress ?? ''),
    );
    if (isResponse(result)) {
      client.end(
        `HTTP/1.1 ${result.statusCode} ${result.statusDescription ?? ''}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
      );
      return;
    }
    const upstream = connect(options.websocket);
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    // As API Gateway does: a client frame over the limit closes the connection with 1009 (Message Too Big),
    // and the WebSocket API sees a disconnect. The upstream goes first, so none of its frames follows ours.
    const inbound = new ClientFrameLimit(options.clientFrames, () => {
      upstream.off('close', closeBoth).unpipe(client).destroy();
      client.end(closeFrame(1009, 'Message too big'));
      setTimeout(() => client.destroy(), CLOSE_GRACE_MS).unref();
    });
    options.live?.watch(upstream, client);
    upstream.once('connect', () => {
      upstream.write(upgradeRequest(result, hostOf(options.websocket)));
      upstream.pipe(client);
      inbound.pipe(upstream);
      // What the client sent right after its upgrade request is its first frames: they are checked too.
      inbound.write(head);
      client.pipe(inbound);
    });
    upstream.on('error', closeBoth).on('close', closeBoth);
    client.on('error', closeBoth).on('close', closeBoth);
  });
  // Upgraded sockets leave the server's bookkeeping; track them so close() does not wait for clients.
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const port = await listen(server, options.host, options.port);
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** The upgrade request as CloudFront forwards it: the function's uri, query, headers and cookies, our Host. */
function upgradeRequest(forwarded: CloudFrontRequest, host: string): string {
  const lines = [`${forwarded.method} ${requestTarget(forwarded)} HTTP/1.1`, `host: ${host}`];
  for (const [name, field] of Object.entries(forwarded.headers)) {
    if (name === 'host') continue;
    for (const { value } of field.multiValue ?? [field]) lines.push(`${name}: ${value}`);
  }
  const cookies = Object.entries(forwarded.cookies).flatMap(([name, field]) =>
    (field.multiValue ?? [field]).map(({ value }) => `${name}=${value}`),
  );
  if (cookies.length > 0) lines.push(`cookie: ${cookies.join('; ')}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

function hostOf(upstream: Upstream): string {
  return `${upstream.host}:${upstream.port}`;
}
