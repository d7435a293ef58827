import { connect, createServer, type Socket } from 'node:net';
import { listen } from '../../src/local/net.js';

export interface CountingProxy {
  readonly port: number;
  /** TCP connections accepted so far: with pusher-js on `ws`, one per connection attempt. */
  readonly connections: number;
  close(): Promise<void>;
}

/**
 * A TCP pass-through on a random loopback port that counts the connections made through it, so a test
 * can see whether a client tried to reconnect without touching the server behind it.
 */
export async function startCountingProxy(target: { host: string; port: number }): Promise<CountingProxy> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const server = createServer((client) => {
    connections += 1;
    const upstream = connect(target);
    track(client);
    track(upstream);
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', closeBoth).on('close', closeBoth);
    upstream.on('error', closeBoth).on('close', closeBoth);
    client.pipe(upstream).pipe(client);
  });
  const port = await listen(server, target.host, 0);
  return {
    port,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
