import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import Pusher from 'pusher';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listChannels, readChannel } from '../../../src/state/channels.js';
import { getConnection } from '../../../src/state/connections.js';
import { stateKeys } from '../../../src/state/keys.js';
import { userConnectionIds } from '../../../src/state/users.js';
import { appItem } from '../../fixtures/apps/items.js';
import { WsHarness } from '../../fixtures/gateway/ws-harness.js';
import { wsProxyEvent } from '../../support/events.js';
import { lambdaContext } from '../../support/lambda-context.js';

let gateway: WsHarness;
const pusher = new Pusher({ appId: 'app-1', key: 'app-1-key', secret: 'app-1-secret', host: '127.0.0.1' });

beforeAll(async () => {
  gateway = await WsHarness.start('ws-disconnect', [appItem('app-1', { MaxConnections: { N: '100' } })]);
});

afterAll(async () => {
  await gateway?.close();
});

async function presenceMember(channel: string, userId: string) {
  const connection = await gateway.connect('app-1-key');
  const authorization = pusher.authorizeChannel(connection.socketId, channel, { user_id: userId });
  const [reply] = await gateway.exchange(connection.connectionId, {
    event: 'pusher:subscribe',
    data: { ...authorization, channel },
  });
  return { ...connection, reply };
}

async function liveCount(): Promise<number> {
  const { Item } = await gateway.state.client.send(
    new GetItemCommand({ TableName: gateway.state.tableName, Key: stateKeys.connectionCounter('app-1') }),
  );
  return Number(Item?.total?.N);
}

describe('$disconnect', () => {
  it('removes the connection, its subscriptions, its signed-in user and its count, and tells the other members', async () => {
    const stays = await presenceMember('presence-lobby', 'stays');
    const countBefore = await liveCount();
    const leaves = await presenceMember('presence-lobby', 'leaves');
    await gateway.send(leaves.connectionId, { event: 'pusher:subscribe', data: { channel: 'public-news' } });
    await gateway.send(leaves.connectionId, {
      event: 'pusher:signin',
      data: pusher.authenticateUser(leaves.socketId, { id: 'leaves' }),
    });

    await gateway.disconnect(leaves.connectionId);

    expect(await getConnection(gateway.state, leaves.connectionId)).toBeUndefined();
    expect(await readChannel(gateway.state, 'app-1', 'presence-lobby', Date.now())).toEqual({
      subscriberConnectionIds: [stays.connectionId],
      subscriberUserIds: new Map([[stays.connectionId, 'stays']]),
      members: [{ userId: 'stays', userInfoJson: undefined }],
    });
    expect(await listChannels(gateway.state, 'app-1', '', Date.now())).toEqual(
      expect.not.arrayContaining([expect.objectContaining({ channel: 'public-news' })]),
    );
    expect(await listChannels(gateway.state, 'app-1', 'presence-lobby', Date.now())).toEqual([
      { channel: 'presence-lobby', subscriptionCount: 1, userCount: 1 },
    ]);
    expect(await userConnectionIds(gateway.state, 'app-1', 'leaves', Date.now())).toEqual([]);
    expect(await liveCount()).toBe(countBefore);
    expect(gateway.connectionsApi.framesOf(stays.connectionId).at(-1)).toEqual({
      event: 'pusher_internal:member_removed',
      channel: 'presence-lobby',
      data: JSON.stringify({ user_id: 'leaves' }),
    });
  });

  it('does nothing for a connection it does not know, and does not need the authorizer context', async () => {
    const event = wsProxyEvent({ routeKey: '$disconnect', connectionId: 'never-seen' });
    delete event.requestContext.authorizer;

    await expect(gateway.handlers.disconnect(event, lambdaContext())).resolves.toEqual({ statusCode: 200 });
  });
});

describe('connections found gone (410) without a $disconnect', () => {
  it('are cleaned up when a post to them fails, and their users announced as removed', async () => {
    const watcher = await presenceMember('presence-ghosts', 'watcher');
    const ghost = await presenceMember('presence-ghosts', 'ghost');
    // The client vanished and AWS never delivered $disconnect.
    gateway.connectionsApi.drop(ghost.connectionId);

    const newcomer = await presenceMember('presence-ghosts', 'newcomer');

    // The roster went out before the cleanup and lists the ghost: the member_removed after it takes it off.
    expect(JSON.parse(newcomer.reply?.data as string).presence.ids).toEqual(['ghost', 'newcomer', 'watcher']);

    expect(await getConnection(gateway.state, ghost.connectionId)).toBeUndefined();
    const { members } = await readChannel(gateway.state, 'app-1', 'presence-ghosts', Date.now());
    expect(members.map((member) => member.userId).sort()).toEqual(['newcomer', 'watcher']);
    for (const { connectionId } of [watcher, newcomer]) {
      expect(gateway.connectionsApi.framesOf(connectionId).at(-1)).toEqual({
        event: 'pusher_internal:member_removed',
        channel: 'presence-ghosts',
        data: JSON.stringify({ user_id: 'ghost' }),
      });
    }
  });
});

describe('records a lost $disconnect left behind', () => {
  it('stop counting at their expiresAt, before DynamoDB gets round to deleting them', async () => {
    // What a client that vanished 3 h ago left: its member and subscriber items, expired but not yet swept.
    const expired = { N: String(Math.floor(Date.now() / 1000) - 1) };
    const put = (Item: Record<string, unknown>) =>
      gateway.state.client.send(
        new PutItemCommand({ TableName: gateway.state.tableName, Item: Item as never }),
      );
    await put({
      ...stateKeys.member('app-1', 'presence-old', 'long-gone'),
      connections: { SS: ['old'] },
      expiresAt: expired,
    });
    await put({
      ...stateKeys.subscriber('app-1', 'presence-old', 'old'),
      userId: { S: 'long-gone' },
      expiresAt: expired,
    });
    await put({
      ...stateKeys.channelIndexEntry('app-1', 'stale-channel'),
      subscriptionCount: { N: '1' },
      expiresAt: expired,
    });

    const { connectionId, socketId } = await gateway.connect('app-1-key');
    const authorization = pusher.authorizeChannel(socketId, 'presence-old', { user_id: 'fresh' });
    const goneBefore = gateway.connectionsApi.goneAnswers;
    const [reply] = await gateway.exchange(connectionId, {
      event: 'pusher:subscribe',
      data: { ...authorization, channel: 'presence-old' },
    });

    expect(JSON.parse(reply?.data as string).presence.ids).toEqual(['fresh']);
    // No member_added was posted to the expired subscriber.
    expect(gateway.connectionsApi.goneAnswers).toBe(goneBefore);
    expect(await listChannels(gateway.state, 'app-1', 'stale-channel', Date.now())).toEqual([]);
  });
});
