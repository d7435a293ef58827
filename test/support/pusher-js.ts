import PusherJs, { type Channel, type PresenceChannel } from 'pusher-js';
import type { AuthParams, AuthServer } from './auth-server.js';

// The Node build's module.exports is the client class itself; its types describe a module with a default export.
const Pusher = PusherJs as unknown as typeof PusherJs.default;
type Pusher = PusherJs.default;

/** Anything pusher-js lets you bind to: the client, a channel, the connection, the user. */
interface Bindable {
  bind(event: string, callback: (...args: never[]) => void): unknown;
  unbind(event: string, callback: (...args: never[]) => void): unknown;
}

export interface PusherJsClientOptions {
  readonly key: string;
  /** The front door's port, or a proxy in front of it. */
  readonly port: number;
  /** The app backend that signs channel and user auth; without one, pusher-js keeps its default endpoints. */
  readonly auth?: AuthServer;
  /** Extra form fields on every auth request: who the user is, or a forgery. */
  readonly authParams?: AuthParams;
  /** pusher-js's own `activityTimeout` in ms (its default is 120 000). */
  readonly activityTimeout?: number;
}

export const DEFAULT_WAIT_MS = 10_000;

/** The states pusher-js settles in once it has given up on a connection. */
const ENDED_STATES = ['disconnected', 'failed'];

/**
 * Waits for the first `event` on `target`, then unbinds. Rejects after `timeoutMs` with `what` in the
 * message, so a test that times out says what it was waiting for.
 */
export function nextEvent<T>(target: Bindable, event: string, what: string, timeoutMs = DEFAULT_WAIT_MS) {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      target.unbind(event, handler);
      reject(new Error(`no ${event} within ${timeoutMs} ms: ${what}`));
    }, timeoutMs);
    const handler = (data: T) => {
      clearTimeout(timer);
      target.unbind(event, handler);
      resolve(data);
    };
    target.bind(event, handler);
  });
}

/** Every `event` on `target` from now on, in arrival order. */
export function recordEvents<T>(target: Bindable, event: string): readonly T[] {
  const events: T[] = [];
  target.bind(event, (data: T) => events.push(data));
  return events;
}

/** The outcome pusher-js reports for a subscription: exactly one of the two events. */
export type SubscriptionOutcome =
  | { readonly succeeded: true; readonly data: unknown }
  | { readonly succeeded: false; readonly error: unknown };

/**
 * A real pusher-js client (Node build) configured for the local stack: plain ws on the loopback, no
 * stats, auth through the given backend. It records its state changes and the connection's `error`
 * events from the moment it is created.
 */
export class PusherJsClient {
  readonly pusher: Pusher;
  /** The connection states, starting with the one it was in when created (`connecting`). */
  readonly states: string[];
  /** What `pusher.connection` emitted as `error`: handshake refusals, `pusher:error` frames, socket errors. */
  readonly errors: unknown[] = [];

  constructor(options: PusherJsClientOptions) {
    const { auth } = options;
    const params = { ...options.authParams };
    this.pusher = new Pusher(options.key, {
      cluster: 'local',
      wsHost: '127.0.0.1',
      wsPort: options.port,
      forceTLS: false,
      enabledTransports: ['ws'],
      disableStats: true,
      ...(options.activityTimeout !== undefined && { activityTimeout: options.activityTimeout }),
      ...(auth && {
        channelAuthorization: { endpoint: auth.channelEndpoint, transport: 'ajax', params },
        userAuthentication: { endpoint: auth.userEndpoint, transport: 'ajax', params },
      }),
    });
    // The constructor already started connecting, synchronously.
    this.states = [this.pusher.connection.state];
    this.pusher.connection.bind('state_change', ({ current }: { current: string }) =>
      this.states.push(current),
    );
    this.pusher.connection.bind('error', (error: unknown) => this.errors.push(error));
  }

  get socketId(): string {
    return this.pusher.connection.socket_id;
  }

  /** Resolves with the socket id once pusher-js is `connected`; rejects if it gives up first. */
  connected(timeoutMs = DEFAULT_WAIT_MS): Promise<string> {
    return this.settled(timeoutMs).then((state) => {
      if (state !== 'connected') {
        throw new Error(`pusher-js ended ${state}, not connected; errors: ${JSON.stringify(this.errors)}`);
      }
      return this.socketId;
    });
  }

  /** Resolves with the state once pusher-js has given up (`disconnected` or `failed`); rejects if it connects. */
  ended(timeoutMs = DEFAULT_WAIT_MS): Promise<string> {
    return this.settled(timeoutMs).then((state) => {
      if (state === 'connected')
        throw new Error(`pusher-js connected as ${this.socketId}; expected a refusal`);
      return state;
    });
  }

  /** Subscribes and waits for pusher-js's verdict: `pusher:subscription_succeeded` or `pusher:subscription_error`. */
  subscription(
    channelName: string,
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<SubscriptionOutcome & { channel: Channel }> {
    const channel = this.pusher.subscribe(channelName);
    return new Promise((resolve, reject) => {
      const finish = (outcome: SubscriptionOutcome) => {
        clearTimeout(timer);
        channel.unbind('pusher:subscription_succeeded', onSuccess);
        channel.unbind('pusher:subscription_error', onError);
        resolve({ ...outcome, channel });
      };
      const onSuccess = (data: unknown) => finish({ succeeded: true, data });
      const onError = (error: unknown) => finish({ succeeded: false, error });
      const timer = setTimeout(() => {
        channel.unbind('pusher:subscription_succeeded', onSuccess);
        channel.unbind('pusher:subscription_error', onError);
        reject(
          new Error(
            `neither subscription_succeeded nor subscription_error for ${channelName} in ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      channel.bind('pusher:subscription_succeeded', onSuccess);
      channel.bind('pusher:subscription_error', onError);
    });
  }

  /** Subscribes and resolves with the channel once subscribed; rejects with the subscription error otherwise. */
  async subscribe(channelName: string): Promise<Channel> {
    const outcome = await this.subscription(channelName);
    if (!outcome.succeeded) {
      throw new Error(`subscription to ${channelName} refused: ${JSON.stringify(outcome.error)}`);
    }
    return outcome.channel;
  }

  /**
   * Subscribes as an app that follows the server's "try again": a `ServerError` refusal (the stack fell
   * behind) is answered by unsubscribing and subscribing again, up to `attempts` times.
   */
  async subscribeTryingAgain(channelName: string, attempts = 3): Promise<Channel> {
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.subscription(channelName);
      if (outcome.succeeded) return outcome.channel;
      const serverError = (outcome.error as { type?: string } | undefined)?.type === 'ServerError';
      if (!serverError || attempt === attempts) {
        throw new Error(`subscription to ${channelName} refused: ${JSON.stringify(outcome.error)}`);
      }
      this.pusher.unsubscribe(channelName);
    }
  }

  async subscribePresence(channelName: string): Promise<PresenceChannel> {
    if (!channelName.startsWith('presence-')) throw new Error(`${channelName} is not a presence channel`);
    return (await this.subscribe(channelName)) as PresenceChannel;
  }

  disconnect(): void {
    this.pusher.disconnect();
  }

  /** The first state pusher-js settles in: `connected`, or an ended state (`disconnected`, `failed`). */
  settled(timeoutMs = DEFAULT_WAIT_MS): Promise<string> {
    const now = this.pusher.connection.state;
    if (now === 'connected' || ENDED_STATES.includes(now)) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const connection = this.pusher.connection;
      const onChange = ({ current }: { current: string }) => {
        if (current !== 'connected' && !ENDED_STATES.includes(current)) return;
        clearTimeout(timer);
        connection.unbind('state_change', onChange);
        resolve(current);
      };
      const timer = setTimeout(() => {
        connection.unbind('state_change', onChange);
        reject(
          new Error(
            `pusher-js still ${connection.state} after ${timeoutMs} ms; states ${this.states.join(' → ')}; errors: ${JSON.stringify(this.errors)}`,
          ),
        );
      }, timeoutMs);
      connection.bind('state_change', onChange);
    });
  }
}

/** Opens clients for one test file and disconnects every one of them after each test. */
export class PusherJsClients {
  private readonly open: PusherJsClient[] = [];

  connect(options: PusherJsClientOptions): PusherJsClient {
    const client = new PusherJsClient(options);
    this.open.push(client);
    return client;
  }

  disconnectAll(): void {
    for (const client of this.open.splice(0)) client.disconnect();
  }
}
