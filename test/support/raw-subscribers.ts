import { openRawSocket, type PusherFrame, type RawSocket } from './raw-socket.js';

const PUSHER_JS_QUERY = 'protocol=7&client=js&version=8.6.0&flash=false';

/** A raw WebSocket client that has been greeted and is subscribed to one public channel. */
export interface RawSubscriber {
  readonly socket: RawSocket;
  readonly socketId: string;
}

export interface RawSubscribersOptions {
  /** The stack's WebSocket base URL (`ws://host:port`). */
  readonly websocketUrl: string;
  readonly key: string;
  /** A public channel: no auth to sign. */
  readonly channel: string;
  readonly count: number;
  /** Clients connecting at once: the local stack runs every Lambda on the same two cores. */
  readonly concurrency: number;
  readonly frameTimeoutMs: number;
}

/**
 * Opens `count` raw clients the way pusher-js connects (same URL, same frames), each waiting for its
 * greeting and its `subscription_succeeded`, `concurrency` at a time. Far lighter than as many pusher-js
 * clients. On any failure the clients opened so far are closed and the failure is thrown.
 */
export async function openRawSubscribers(options: RawSubscribersOptions): Promise<RawSubscriber[]> {
  const url = `${options.websocketUrl}/app/${options.key}?${PUSHER_JS_QUERY}`;
  const subscribers: RawSubscriber[] = [];
  let next = 0;
  const worker = async () => {
    while (next < options.count) {
      next += 1;
      subscribers.push(await subscribed(url, options));
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(options.concurrency, options.count) }, worker));
  } catch (error) {
    closeAll(subscribers);
    throw error;
  }
  return subscribers;
}

export function closeAll(subscribers: readonly RawSubscriber[]): void {
  for (const { socket } of subscribers) socket.close();
}

async function subscribed(url: string, options: RawSubscribersOptions): Promise<RawSubscriber> {
  const socket = await openRawSocket(url);
  try {
    const greeting = await socket.nextFrame(options.frameTimeoutMs);
    expectFrame(greeting, 'pusher:connection_established');
    const { socket_id: socketId } = JSON.parse(greeting.data as string) as { socket_id: string };
    socket.send({ event: 'pusher:subscribe', data: { channel: options.channel } });
    expectFrame(await socket.nextFrame(options.frameTimeoutMs), 'pusher_internal:subscription_succeeded');
    return { socket, socketId };
  } catch (error) {
    socket.close();
    throw error;
  }
}

function expectFrame(frame: PusherFrame, event: string): void {
  if (frame.event !== event) throw new Error(`expected ${event}, got ${JSON.stringify(frame)}`);
}
