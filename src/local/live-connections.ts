import type { Readable } from 'node:stream';
import { connectionIdOf } from '../gateway/socket-id.js';
import { parseHeader } from './client-frames.js';

/**
 * The connections the front door holds open, by API Gateway connection id: what `GetConnection` answers
 * from locally (serverless offline has no such route). An id is learnt from the greeting the connection
 * receives (`pusher:connection_established` carries the socket id, which encodes it) and forgotten when
 * the client's socket closes, whether or not `$disconnect` runs.
 */
export class LiveConnections {
  private readonly open = new Set<string>();

  has(connectionId: string): boolean {
    return this.open.has(connectionId);
  }

  add(connectionId: string): void {
    this.open.add(connectionId);
  }

  delete(connectionId: string): void {
    this.open.delete(connectionId);
  }

  /**
   * Reads the first frame `upstream` sends after its upgrade response (without consuming anything: the
   * bytes still flow to the client), and holds the connection it greets until `client` closes.
   */
  watch(upstream: Readable, client: { once(event: 'close', listener: () => void): unknown }): void {
    let seen = Buffer.alloc(0);
    let connectionId: string | undefined;
    let closed = false;
    const onData = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      const greeting = firstFramePayload(seen);
      if (greeting === 'incomplete' && seen.length < MAX_GREETING_BYTES) return;
      upstream.off('data', onData);
      if (greeting === 'incomplete' || closed) return;
      connectionId = greetedConnection(greeting);
      if (connectionId !== undefined) this.add(connectionId);
    };
    upstream.on('data', onData);
    client.once('close', () => {
      closed = true;
      if (connectionId !== undefined) this.delete(connectionId);
    });
  }
}

/** More than an upgrade response and a greeting ever take. */
const MAX_GREETING_BYTES = 16_384;

/** The payload of the first frame after the HTTP response head, once all of it has arrived. */
function firstFramePayload(bytes: Buffer): Buffer | 'incomplete' {
  const headEnd = bytes.indexOf('\r\n\r\n');
  if (headEnd < 0) return 'incomplete';
  const frame = bytes.subarray(headEnd + 4);
  const header = parseHeader(frame);
  if (header === undefined || frame.length < header.headerBytes + header.payloadBytes) return 'incomplete';
  return frame.subarray(header.headerBytes, header.headerBytes + header.payloadBytes);
}

function greetedConnection(payload: Buffer): string | undefined {
  try {
    const frame = JSON.parse(payload.toString('utf8')) as { event?: unknown; data?: unknown };
    if (frame.event !== 'pusher:connection_established' || typeof frame.data !== 'string') return undefined;
    return connectionIdOf((JSON.parse(frame.data) as { socket_id?: unknown }).socket_id);
  } catch {
    return undefined;
  }
}
