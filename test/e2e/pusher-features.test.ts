import type Pusher from 'pusher';
import type { Channel } from 'pusher-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../fixtures/apps/items.js';
import { type AuthServer, startAuthServer } from '../support/auth-server.js';
import { CaptureServer } from '../support/capture-server.js';
import { seedApps, useLocalStack } from '../support/local-stack.js';
import { nextEvent, type PusherJsClient, PusherJsClients, recordEvents } from '../support/pusher-js.js';
import { jsonOf, refusalOf, serverSdk } from '../support/pusher-sdk.js';

/*
 * Features hosted Pusher has, end to end: real pusher-js clients on the local stack, the real `pusher`
 * SDK publishing and querying, a loopback receiver for the webhooks they raise.
 */

/** How long a webhook that goes at once takes to reach the receiver: ~0.3 s measured. */
const WEBHOOK_WAIT_MS = 10_000;
/** After the last expected webhook: long enough for a repeat to have arrived. */
const QUIET_MS = 1_500;

const CACHE_APP = testApp('e2e-cache');
const RUN = Date.now().toString(36);

// One stack for the file.
const local = useLocalStack('pusher-features');

/** A connected client of `app`, who is `userId` to its backend (for presence channels and signin). */
async function connectedAs(
  clients: PusherJsClients,
  app: { readonly key: string },
  backend: AuthServer,
  userId: string,
): Promise<PusherJsClient> {
  const client = clients.connect({
    key: app.key,
    port: local.stack.port,
    auth: backend,
    authParams: { user_id: userId },
  });
  await client.connected();
  return client;
}

describe('cache channels on the local stack', () => {
  const clients = new PusherJsClients();
  const receiver = new CaptureServer();
  const webhooks: { channel: string; name: string }[] = [];
  let backend: AuthServer;
  let sdk: Pusher;

  beforeAll(async () => {
    await receiver.start();
    await seedApps(local.stack, [
      {
        ...CACHE_APP,
        webhooks: [{ url: `http://${receiver.host}:${receiver.port}/hooks`, eventTypes: ['cache_miss'] }],
      },
    ]);
    backend = await startAuthServer(CACHE_APP);
    sdk = serverSdk(local.stack, CACHE_APP);
    void collect();
  });
  afterAll(async () => {
    await backend?.close();
    await receiver.close();
  });
  afterEach(() => clients.disconnectAll());

  /** Every webhook event the receiver gets, for as long as it runs. */
  async function collect(): Promise<void> {
    for (;;) {
      const request = await receiver.next(24 * 3_600_000).catch(() => undefined);
      if (request === undefined) return;
      const body = JSON.parse(request.body.toString('utf8')) as {
        events: { channel: string; name: string }[];
      };
      webhooks.push(...body.events.map(({ channel, name }) => ({ channel, name })));
    }
  }

  const connected = (userId = 'someone') => connectedAs(clients, CACHE_APP, backend, userId);

  /**
   * Subscribes with the listeners bound before the server can answer: what pusher-js emits on the channel
   * (`subscription_succeeded`, then the cached event or `pusher:cache_miss`), in arrival order.
   */
  function subscribing(client: PusherJsClient, name: string): { channel: Channel; seen: string[] } {
    const channel = client.pusher.subscribe(name);
    const seen: string[] = [];
    channel.bind_global((event: string) => seen.push(event));
    return { channel, seen };
  }

  it('gives a late subscriber the last event published, right after subscription_succeeded, and answers info=cache', async () => {
    const name = `cache-prices-${RUN}`;
    await sdk.trigger(name, 'price', '{"v":1}');
    await sdk.trigger(name, 'price', '{"v":2}');
    const client = await connected();

    const { channel, seen } = subscribing(client, name);
    const cached = await nextEvent<unknown>(channel, 'price', `the cached event on ${name}`);

    expect(cached).toEqual({ v: 2 });
    expect(seen).toEqual(['pusher:subscription_succeeded', 'price']);
    const info = await jsonOf<{ cache: { data: string; ttl: number } }>(
      sdk.get({ path: `/channels/${name}`, params: { info: 'cache' } }),
    );
    expect(info.cache.data).toBe('{"v":2}');
    expect(info.cache.ttl).toBeGreaterThan(1_790);
    expect(info.cache.ttl).toBeLessThanOrEqual(1_800);
  });

  it('caches a private cache channel’s event too, also one sent with socket_id', async () => {
    const name = `private-cache-room-${RUN}`;
    await sdk.trigger(name, 'hello', 'first', { socket_id: '1234.5678' });
    const client = await connected();

    const { channel } = subscribing(client, name);

    expect(await nextEvent(channel, 'hello', `the cached event on ${name}`)).toBe('first');
  });

  it('tells a subscriber of an empty cache channel pusher:cache_miss, and raises the cache_miss webhook once for a burst of them', async () => {
    const name = `presence-cache-lobby-${RUN}`;
    const [first, second] = [await connected('ann'), await connected('bob')];

    const misses = [first, second].map((client) => {
      const { channel, seen } = subscribing(client, name);
      return { seen, missed: nextEvent(channel, 'pusher:cache_miss', `pusher:cache_miss on ${name}`) };
    });
    for (const { missed } of misses) await missed;

    // The miss follows the subscriber's own subscription_succeeded. (The other joiner's member_added may come
    // before both: of two presence joins at once, each may see the other's subscriber item first.)
    for (const { seen } of misses) {
      expect(seen.indexOf('pusher:subscription_succeeded')).toBeGreaterThanOrEqual(0);
      expect(seen.indexOf('pusher:subscription_succeeded')).toBeLessThan(seen.indexOf('pusher:cache_miss'));
    }
    const deadline = Date.now() + WEBHOOK_WAIT_MS;
    while (!webhooks.some((event) => event.channel === name) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    expect(webhooks.filter((event) => event.channel === name)).toEqual([
      { channel: name, name: 'cache_miss' },
    ]);
    const info = await jsonOf<{ cache: unknown }>(
      sdk.get({ path: `/channels/${name}`, params: { info: 'cache' } }),
    );
    expect(info.cache).toBeNull();
  });

  it('treats a name that merely contains cache- as an ordinary channel: no cached event, no miss, info=cache refused', async () => {
    const name = `prices-cache-${RUN}`;
    await sdk.trigger(name, 'price', 'old');
    const client = await connected();

    const { channel, seen } = subscribing(client, name);
    const events = recordEvents<unknown>(channel, 'price');
    await nextEvent(channel, 'pusher:subscription_succeeded', `subscription to ${name}`);
    const live = nextEvent(channel, 'price', `the live event on ${name}`);
    await sdk.trigger(name, 'price', 'new');
    await live;

    expect(events).toEqual(['new']);
    expect(seen).not.toContain('pusher:cache_miss');
    const refused = await refusalOf(sdk.get({ path: `/channels/${name}`, params: { info: 'cache' } }));
    expect(refused.status).toBe(400);
    expect(webhooks.filter((event) => event.channel === name)).toEqual([]);
  });
});

describe('sending to a user on the local stack', () => {
  const APP = testApp('e2e-send-to-user');
  const clients = new PusherJsClients();
  let backend: AuthServer;
  let sdk: Pusher;

  beforeAll(async () => {
    await seedApps(local.stack, [APP]);
    backend = await startAuthServer(APP);
    sdk = serverSdk(local.stack, APP);
  });
  afterAll(async () => {
    await backend?.close();
  });
  afterEach(() => clients.disconnectAll());

  it('reaches a client sent to right after its pusher:signin_success, before it subscribed to its user channel, 10 times of 10, once each', async () => {
    for (let attempt = 0; attempt < 10; attempt++) {
      const userId = `user-${RUN}-${attempt}`;
      const client = await connectedAs(clients, APP, backend, userId);
      const received = recordEvents<unknown>(client.pusher.user, 'note');
      client.pusher.signin();
      await client.pusher.user.signinDonePromise;
      // Waited for from before it is sent: a publish answers after its posts, which may arrive first.
      const first = nextEvent(client.pusher.user, 'note', `the note to ${userId}`);
      await sdk.sendToUser(userId, 'note', { attempt });
      await first;
      // A second note after the user channel's subscription: still once each.
      if (!client.pusher.user.serverToUserChannel.subscribed) {
        await nextEvent(
          client.pusher.user.serverToUserChannel,
          'pusher:subscription_succeeded',
          `${userId}'s channel`,
        );
      }
      const second = nextEvent(client.pusher.user, 'note', `the second note to ${userId}`);
      await sdk.sendToUser(userId, 'note', { attempt, again: true });
      await second;
      expect(received).toEqual([{ attempt }, { attempt, again: true }]);
      client.disconnect();
    }
  });
});

describe('the health answer on the local stack', () => {
  it('answers GET / with 200 from the edge function, as soketi’s health check expects', async () => {
    const response = await fetch(`http://127.0.0.1:${local.stack.port}/`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('OK');
  });
});
