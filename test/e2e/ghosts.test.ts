import { PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { Members } from 'pusher-js';
import { afterEach, describe, expect, it } from 'vitest';
import { listChannels } from '../../src/state/channels.js';
import { useAuthServer } from '../support/auth-server.js';
import { stackClient, useLocalStack } from '../support/local-stack.js';
import { PusherJsClients, recordEvents } from '../support/pusher-js.js';

/** Short values, as tests may set them: a sweep every 2 s, ghosts gone within 10 s. */
const SWEEP_PERIOD_S = 2;
const GHOST_BOUND_S = 10;
/** A run's own time, and polling, on top of the bound. */
const SLACK_MS = 3_000;
const CHANNEL = 'presence-ghosts';

interface Member {
  readonly id: string;
}

function membersOf(members: Members): string[] {
  const ids: string[] = [];
  members.each((member: Member) => ids.push(member.id));
  return ids.sort();
}

describe('ghost connections on the local stack', () => {
  const local = useLocalStack('e2e-ghosts', [], {
    env: {
      ...process.env,
      CONNECTION_SWEEP_PERIOD_SECONDS: String(SWEEP_PERIOD_S),
      GHOST_CONNECTION_BOUND_SECONDS: String(GHOST_BOUND_S),
    },
  });
  const clients = new PusherJsClients();
  const backend = useAuthServer(() => local.stack.app);
  afterEach(() => clients.disconnectAll());

  const counts = async (channel: string) => {
    const client = stackClient(local.stack);
    try {
      return await listChannels(
        { client, tableName: local.stack.tables.state },
        local.stack.app.id,
        channel,
        Date.now(),
      );
    } finally {
      client.destroy();
    }
  };

  it(`cleans up a lost $disconnect within ${GHOST_BOUND_S} s on a quiet channel, with member_removed`, {
    timeout: 60_000,
  }, async () => {
    const join = async (userId: string) => {
      const client = clients.connect({
        key: local.stack.app.key,
        port: local.stack.port,
        auth: backend.server,
        authParams: { user_id: userId },
      });
      await client.connected();
      return { client, channel: await client.subscribePresence(CHANNEL) };
    };
    const ghost = await join('ghost');
    await ghost.client.subscribe('ghost-public');
    // What the state table holds while the ghost is connected: the records a lost $disconnect leaves behind.
    const db = stackClient(local.stack);
    const { Items: records = [] } = await db.send(new ScanCommand({ TableName: local.stack.tables.state }));

    // The client leaves and its $disconnect runs; then its records are put back, as if that $disconnect was lost.
    ghost.client.disconnect();
    await expect.poll(() => counts(CHANNEL), { timeout: 10_000 }).toEqual([]);
    for (const Item of records)
      await db.send(new PutItemCommand({ TableName: local.stack.tables.state, Item }));
    db.destroy();
    const restoredAt = Date.now();
    // Someone who joins now is told of the ghost, as everyone would be after a lost $disconnect.
    const alice = await join('alice');
    const removed = recordEvents<Member>(alice.channel, 'pusher:member_removed');
    expect(membersOf(alice.channel.members)).toEqual(['alice', 'ghost']);
    expect(await counts(CHANNEL)).toEqual([{ channel: CHANNEL, subscriptionCount: 2, userCount: 2 }]);

    await expect
      .poll(() => removed.map((member) => member.id), {
        timeout: GHOST_BOUND_S * 1_000 + SLACK_MS,
        interval: 100,
      })
      .toEqual(['ghost']);

    expect(Date.now() - restoredAt).toBeLessThan(GHOST_BOUND_S * 1_000 + SLACK_MS);
    expect(await counts(CHANNEL)).toEqual([{ channel: CHANNEL, subscriptionCount: 1, userCount: 1 }]);
    expect(await counts('ghost-public')).toEqual([]);
  });
});
