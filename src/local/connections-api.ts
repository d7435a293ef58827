import { createServer, request } from 'node:http';
import type { Upstream } from './front-door.js';
import type { LiveConnections } from './live-connections.js';
import { listen } from './net.js';

export interface ConnectionsApiOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** serverless offline's WebSocket port, which serves `@connections` without a size limit. */
  readonly websocket: Upstream;
  /** The largest message a post may carry, in bytes. */
  readonly maxMessageBytes: number;
  /** What `GetConnection` answers from: serverless offline has no such route. */
  readonly live: LiveConnections;
}

export interface ConnectionsApi {
  /** What the handlers get as `WEBSOCKET_API_ENDPOINT`. */
  readonly endpoint: string;
  close(): Promise<void>;
}

/**
 * The `@connections` management API as the handlers see it locally: serverless offline's, behind a proxy
 * that refuses a post over API Gateway's message limit as AWS does (413 `PayloadTooLargeException`), so a
 * frame that could never reach a client on AWS cannot reach one on a laptop either, and that answers
 * `GetConnection` (200, or 410 `GoneException`) from the connections the front door holds open.
 */
export async function startConnectionsApi(options: ConnectionsApiOptions): Promise<ConnectionsApi> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const probed = req.method === 'GET' ? /^\/@connections\/([^/?]+)$/.exec(req.url ?? '') : null;
      if (probed) {
        const open = options.live.has(decodedOrRaw(probed[1]!));
        res
          .writeHead(open ? 200 : 410, {
            'content-type': 'application/json',
            ...(!open && { 'x-amzn-errortype': 'GoneException' }),
          })
          .end(open ? '{}' : JSON.stringify({ message: 'Gone' }));
        return;
      }
      if (req.method === 'POST' && body.length > options.maxMessageBytes) {
        res
          .writeHead(413, {
            'content-type': 'application/json',
            'x-amzn-errortype': 'PayloadTooLargeException',
          })
          .end(JSON.stringify({ message: 'The data has exceeded the maximum size allowed.' }));
        return;
      }
      const forwarded = request(
        { ...options.websocket, method: req.method, path: req.url, headers: req.headers },
        (upstream) => {
          res.writeHead(upstream.statusCode ?? 502, upstream.headers);
          upstream.pipe(res);
        },
      );
      forwarded.on('error', () => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: 'serverless offline is unreachable' }));
      });
      forwarded.end(body);
    });
  });
  const port = await listen(server, options.host, options.port);
  return {
    endpoint: `http://${options.host}:${port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A malformed escape names no connection the front door holds; it must not take the stack down. */
function decodedOrRaw(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
