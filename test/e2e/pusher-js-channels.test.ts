import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Members } from 'pusher-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listChannels } from '../../src/state/channels.js';
import { testApp } from '../fixtures/apps/items.js';
import {
  type AuthServer,
  CHANNEL_AUTH_PATH,
  startAuthServer,
  USER_AUTH_PATH,
} from '../support/auth-server.js';
import { stackClient, useLocalStack } from '../support/local-stack.js';
import { nextEvent, type PusherJsClient, PusherJsClients, recordEvents } from '../support/pusher-js.js';

const USER_AUTH_APP = testApp('e2e-user-auth', { enableUserAuthentication: true });
const MASTER_KEY = randomBytes(32);
/** How often and how long to look for a `$disconnect` to have done its work. */
const POLL_INTERVAL_MS = 25;
const POLL_LIMIT_MS = 10_000;

interface Member {
  readonly id: string;
  readonly info: unknown;
}

function membersOf(members: Members): Member[] {
  const all: Member[] = [];
  members.each((member: Member) => all.push(member));
  return all.sort((a, b) => a.id.localeCompare(b.id));
}

const member = (id: string, name: string): Member => ({ id, info: { name } });

describe('pusher-js channels on the local stack', () => {
  const local = useLocalStack('channels', [USER_AUTH_APP]);
  const clients = new PusherJsClients();
  let backend: AuthServer;
  let userAuthBackend: AuthServer;

  beforeAll(async () => {
    backend = await startAuthServer(local.stack.app, {
      encryptionMasterKeyBase64: MASTER_KEY.toString('base64'),
    });
    userAuthBackend = await startAuthServer(USER_AUTH_APP);
  });
  afterAll(async () => {
    await backend?.close();
    await userAuthBackend?.close();
  });
  afterEach(() => clients.disconnectAll());

  async function subscriptionCountBecomes(channel: string, expected: number): Promise<void> {
    const client = stackClient(local.stack);
    const state = { client, tableName: local.stack.tables.state };
    try {
      for (let waited = 0; waited < POLL_LIMIT_MS; waited += POLL_INTERVAL_MS) {
        const [entry] = await listChannels(state, local.stack.app.id, channel, Date.now());
        if (entry?.subscriptionCount === expected) return;
        await sleep(POLL_INTERVAL_MS);
      }
      throw new Error(`${channel} did not reach ${expected} subscriptions in ${POLL_LIMIT_MS} ms`);
    } finally {
      client.destroy();
    }
  }

  /** A connected client of the demo app, signed in to the backend as `userId` when one is given. */
  async function connected(userId?: string, name?: string): Promise<PusherJsClient> {
    const client = clients.connect({
      key: local.stack.app.key,
      port: local.stack.port,
      auth: backend,
      authParams: userId === undefined ? {} : { user_id: userId, user_name: name ?? userId },
    });
    await client.connected();
    return client;
  }

  /** Alice, a member of `channel`, and every member_added / member_removed she is told of from then on. */
  async function aliceWatching(channel: string) {
    const alice = await connected('alice', 'Alice');
    const aliceChannel = await alice.subscribePresence(channel);
    return {
      aliceChannel,
      added: recordEvents<Member>(aliceChannel, 'pusher:member_added'),
      removed: recordEvents<Member>(aliceChannel, 'pusher:member_removed'),
    };
  }

  const authRequestsFor = (server: AuthServer, path: string, socketId: string) =>
    server.requests.filter((request) => request.path === path && request.fields.socket_id === socketId);

  it('subscribes to a public channel without asking the auth endpoint', async () => {
    const client = await connected();

    const outcome = await client.subscription('e2e-public');

    expect(outcome.succeeded).toBe(true);
    expect(outcome.channel.subscribed).toBe(true);
    expect(authRequestsFor(backend, CHANNEL_AUTH_PATH, client.socketId)).toEqual([]);
  });

  it('subscribes to a private channel with the auth the backend signed', async () => {
    const client = await connected();

    const outcome = await client.subscription('private-e2e');

    expect(outcome.succeeded).toBe(true);
    expect(outcome.channel.subscribed).toBe(true);
    expect(
      authRequestsFor(backend, CHANNEL_AUTH_PATH, client.socketId).map((r) => r.fields.channel_name),
    ).toEqual(['private-e2e']);
  });

  it('subscribes to an encrypted channel, and pusher-js holds the shared secret the backend derived', async () => {
    const client = await connected();
    const name = 'private-encrypted-e2e';

    const outcome = await client.subscription(name);

    expect(outcome.succeeded).toBe(true);
    // shared_secret = base64(SHA-256(channel name ‖ master key)); pusher-js keeps it as its NaCl key.
    const expected = createHash('sha256').update(name).update(MASTER_KEY).digest();
    const { key } = outcome.channel as unknown as { key: Uint8Array | null };
    expect(key && Buffer.from(key).toString('base64')).toBe(expected.toString('base64'));
  });

  it.each([
    ['private-e2e-forged', {}],
    ['presence-e2e-forged', { user_id: 'mallory' }],
  ])('refuses %s signed with a wrong secret with an AuthError subscription_error', async (channel, who) => {
    const client = clients.connect({
      key: local.stack.app.key,
      port: local.stack.port,
      auth: backend,
      authParams: { ...who, forge: 'true' },
    });
    await client.connected();

    const outcome = await client.subscription(channel);

    if (outcome.succeeded) throw new Error(`${channel} subscribed with a forged auth`);
    // The shape pusher-js itself emits when an auth endpoint fails: { type, error, status }.
    expect(outcome.error).toEqual({ type: 'AuthError', error: expect.any(String), status: 401 });
    expect(JSON.stringify(outcome.error)).not.toContain(local.stack.app.secret);
    expect(outcome.channel.subscribed).toBe(false);
    // A refused subscription is not a reason to drop the connection.
    expect(client.pusher.connection.state).toBe('connected');
    expect(client.errors).toEqual([]);
  });

  it('gives each presence member the roster, and tells the others who came and went', async () => {
    const channel = 'presence-e2e-roster';
    const { aliceChannel, added, removed } = await aliceWatching(channel);

    expect(aliceChannel.members.count).toBe(1);
    expect(aliceChannel.members.me).toEqual(member('alice', 'Alice'));
    expect(membersOf(aliceChannel.members)).toEqual([member('alice', 'Alice')]);

    const bob = await connected('bob', 'Bob');
    const bobJoined = nextEvent<Member>(aliceChannel, 'pusher:member_added', 'bob joining');
    const bobChannel = await bob.subscribePresence(channel);

    expect(bobChannel.members.count).toBe(2);
    expect(bobChannel.members.me).toEqual(member('bob', 'Bob'));
    expect(membersOf(bobChannel.members)).toEqual([member('alice', 'Alice'), member('bob', 'Bob')]);
    await expect(bobJoined).resolves.toEqual(member('bob', 'Bob'));
    expect(aliceChannel.members.count).toBe(2);

    const bobLeft = nextEvent<Member>(aliceChannel, 'pusher:member_removed', 'bob leaving');
    bob.disconnect();

    await expect(bobLeft).resolves.toEqual(member('bob', 'Bob'));
    expect(aliceChannel.members.count).toBe(1);
    expect(membersOf(aliceChannel.members)).toEqual([member('alice', 'Alice')]);
    expect({ added, removed }).toEqual({ added: [member('bob', 'Bob')], removed: [member('bob', 'Bob')] });
  });

  it('counts a user with two connections as one member: one member_added, one member_removed', async () => {
    const channel = 'presence-e2e-two-tabs';
    const { aliceChannel, added, removed } = await aliceWatching(channel);
    const bobTab1 = await connected('bob', 'Bob');
    const bobTab2 = await connected('bob', 'Bob');
    // Dave's comings and goings come after Bob's second tab's: once they reach Alice, so would anything
    // that tab had caused.
    const dave = await connected('dave', 'Dave');

    await bobTab1.subscribePresence(channel);
    const secondTab = await bobTab2.subscribePresence(channel);
    const daveJoined = nextEvent(aliceChannel, 'pusher:member_added', 'dave joining');
    const daveJoinedSecondTab = nextEvent(secondTab, 'pusher:member_added', 'dave joining, to bob');
    await dave.subscribePresence(channel);
    await Promise.all([daveJoined, daveJoinedSecondTab]);

    expect(secondTab.members.count).toBe(3);
    expect(added).toEqual([member('bob', 'Bob'), member('dave', 'Dave')]);
    expect(aliceChannel.members.count).toBe(3);

    bobTab2.disconnect();
    // $disconnect runs after the socket closes and nothing tells a client when it is done: wait until it
    // has taken the tab off the channel's count (its last step before any member_removed), so whatever it
    // causes reaches Alice before Dave's departure does.
    await subscriptionCountBecomes(channel, 3);
    const daveLeft = nextEvent(aliceChannel, 'pusher:member_removed', 'dave leaving');
    dave.disconnect();
    await daveLeft;

    expect(removed).toEqual([member('dave', 'Dave')]);
    expect(aliceChannel.members.get('bob')).toEqual(member('bob', 'Bob'));

    const bobLeft = nextEvent(aliceChannel, 'pusher:member_removed', 'bob closing his last tab');
    bobTab1.disconnect();
    await bobLeft;
    expect(removed).toEqual([member('dave', 'Dave'), member('bob', 'Bob')]);
    expect(membersOf(aliceChannel.members)).toEqual([member('alice', 'Alice')]);
  });

  it('tells the others when a member unsubscribes while staying connected', async () => {
    const channel = 'presence-e2e-unsubscribe';
    const { aliceChannel } = await aliceWatching(channel);
    const bob = await connected('bob', 'Bob');
    await bob.subscribePresence(channel);
    const bobLeft = nextEvent<Member>(aliceChannel, 'pusher:member_removed', 'bob unsubscribing');

    bob.pusher.unsubscribe(channel);

    await expect(bobLeft).resolves.toEqual(member('bob', 'Bob'));
    expect(membersOf(aliceChannel.members)).toEqual([member('alice', 'Alice')]);
    expect(bob.pusher.connection.state).toBe('connected');
  });

  it('signs in through the user auth endpoint and gets its #server-to-user channel', async () => {
    const client = clients.connect({
      key: USER_AUTH_APP.key,
      port: local.stack.port,
      auth: userAuthBackend,
      authParams: { user_id: 'carol', user_name: 'Carol' },
    });
    const socketId = await client.connected();
    const signedIn = nextEvent<{ user_data: string }>(client.pusher, 'pusher:signin_success', 'signin');

    client.pusher.signin();

    const { user_data } = await signedIn;
    expect(JSON.parse(user_data)).toEqual({ id: 'carol', user_info: { name: 'Carol' } });
    expect(authRequestsFor(userAuthBackend, USER_AUTH_PATH, socketId)).toHaveLength(1);
    await client.pusher.user.signinDonePromise;
    const userChannel = client.pusher.user.serverToUserChannel;
    expect(userChannel?.name).toBe('#server-to-user-carol');
    if (!userChannel?.subscribed) {
      await nextEvent(userChannel, 'pusher:subscription_succeeded', '#server-to-user-carol subscription');
    }
    expect(userChannel.subscribed).toBe(true);
    expect(client.pusher.connection.state).toBe('connected');
    expect(client.errors).toEqual([]);
  });
});
