import WebSocket from 'ws';

/** A Pusher protocol frame as it travels: `data` is whatever the server put there (a string, usually). */
export interface PusherFrame {
  readonly event: string;
  readonly channel?: string;
  readonly data?: unknown;
}

export interface Closure {
  readonly code: number;
  readonly reason: string;
}

/** A plain `ws` client for what pusher-js hides: the exact frames and the close code. */
export interface RawSocket {
  nextFrame(timeoutMs?: number): Promise<PusherFrame>;
  send(frame: PusherFrame): void;
  closed(timeoutMs?: number): Promise<Closure>;
  close(): void;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** Opens `url` and resolves once the upgrade completes; rejects with the HTTP status if it is refused. */
export function openRawSocket(url: string): Promise<RawSocket> {
  const socket = new WebSocket(url);
  const frames: PusherFrame[] = [];
  const frameWaiters: ((frame: PusherFrame) => void)[] = [];
  let closure: Closure | undefined;
  const closeWaiters: ((closure: Closure) => void)[] = [];

  socket.on('message', (raw) => {
    const frame = JSON.parse(raw.toString()) as PusherFrame;
    const waiter = frameWaiters.shift();
    if (waiter) waiter(frame);
    else frames.push(frame);
  });
  socket.on('close', (code, reason) => {
    closure = { code, reason: reason.toString() };
    for (const waiter of closeWaiters.splice(0)) waiter(closure);
  });

  const withTimeout = <T>(what: string, timeoutMs: number, register: (resolve: (value: T) => void) => void) =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs);
      register((value) => {
        clearTimeout(timer);
        resolve(value);
      });
    });

  const raw: RawSocket = {
    nextFrame: (timeoutMs = DEFAULT_TIMEOUT_MS) => {
      const ready = frames.shift();
      if (ready) return Promise.resolve(ready);
      return withTimeout('frame', timeoutMs, (resolve) => frameWaiters.push(resolve));
    },
    send: (frame) => socket.send(JSON.stringify(frame)),
    closed: (timeoutMs = DEFAULT_TIMEOUT_MS) => {
      if (closure) return Promise.resolve(closure);
      return withTimeout('close', timeoutMs, (resolve) => closeWaiters.push(resolve));
    },
    close: () => socket.terminate(),
  };

  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(raw));
    socket.once('unexpected-response', (_request, response) => {
      socket.terminate();
      reject(new Error(`upgrade of ${url} refused with HTTP ${response.statusCode}`));
    });
    socket.once('error', reject);
  });
}
