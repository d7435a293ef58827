import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { socketIdOf } from '../../../src/gateway/socket-id.js';
import { LiveConnections } from '../../../src/local/live-connections.js';

/** `ws`'s own frame encoder, which its type definitions leave out. */
const { Sender } = createRequire(import.meta.url)('ws') as {
  Sender: {
    frame(
      data: Buffer,
      options: { fin: boolean; mask: boolean; opcode: number; readOnly: boolean; rsv1: boolean },
    ): Buffer[];
  };
};

const UPGRADE_RESPONSE =
  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n';

function serverFrame(text: string): Buffer {
  return Buffer.concat(
    Sender.frame(Buffer.from(text), { fin: true, mask: false, opcode: 1, readOnly: false, rsv1: false }),
  );
}

const greeting = (connectionId: string) =>
  JSON.stringify({
    event: 'pusher:connection_established',
    data: JSON.stringify({ socket_id: socketIdOf(connectionId), activity_timeout: 120 }),
  });

describe('LiveConnections', () => {
  it('learns a connection from its greeting, however the bytes are split, and forgets it when the client closes', () => {
    const live = new LiveConnections();
    const upstream = new PassThrough();
    const client = new EventEmitter();
    live.watch(upstream, client);
    const bytes = Buffer.concat([Buffer.from(UPGRADE_RESPONSE), serverFrame(greeting('Df14mfUXIAMCIyg='))]);

    for (let i = 0; i < bytes.length; i += 7) upstream.write(bytes.subarray(i, i + 7));
    expect(live.has('Df14mfUXIAMCIyg=')).toBe(true);

    client.emit('close');
    expect(live.has('Df14mfUXIAMCIyg=')).toBe(false);
  });

  it('holds no connection that was refused (its first frame is pusher:error), nor one closed before its greeting', () => {
    const live = new LiveConnections();
    const refused = new PassThrough();
    live.watch(refused, new EventEmitter());
    refused.write(
      Buffer.concat([
        Buffer.from(UPGRADE_RESPONSE),
        serverFrame('{"event":"pusher:error","data":{"code":4001}}'),
      ]),
    );

    const early = new PassThrough();
    const client = new EventEmitter();
    live.watch(early, client);
    client.emit('close');
    early.write(Buffer.concat([Buffer.from(UPGRADE_RESPONSE), serverFrame(greeting('late'))]));

    expect(live.has('late')).toBe(false);
  });
});
