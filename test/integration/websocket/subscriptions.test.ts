import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUpConnections } from '../../../src/cleanup/cleanup.js';
import type { GatewayContext, MessageContext } from '../../../src/gateway/context.js';
import { type ConnectionsApi, connectionsApi } from '../../../src/gateway/management-api.js';
import { socketIdOf } from '../../../src/gateway/socket-id.js';
import { signChannel } from '../../../src/protocol/index.js';
import { countSubscription, listChannels, readChannel } from '../../../src/state/channels.js';
import { UNLIMITED_OPS } from '../../../src/state/connection-ops.js';
import { putConnection } from '../../../src/state/connections.js';
import type { Outcome } from '../../../src/websocket/outcome.js';
import { subscribe, unsubscribe } from '../../../src/websocket/subscriptions.js';
import { testApp } from '../../fixtures/apps/items.js';
import { ConnectionsApiStandIn, type ReceivedFrame } from '../../fixtures/gateway/connections-api.js';
import { createStateTable, type TestTable, testClient } from '../../support/dynamodb.js';
import { callHold, type HeldCalls, holdCalls } from '../../support/held-calls.js';
import { recordingLogger } from '../../support/recording-logger.js';

let table: TestTable;
let standIn: ConnectionsApiStandIn;
/** Two Lambda containers sharing the table and the `@connections` API; the first one's calls can be held. */
type SubscribingContext = GatewayContext & Pick<MessageContext, 'connectionLimits'>;
let held: SubscribingContext;
let other: SubscribingContext;
let hold: HeldCalls;

beforeAll(async () => {
  const clients = [testClient(), testClient()] as const;
  hold = holdCalls(clients[0]);
  table = await createStateTable(clients[1], 'subscriptions');
  standIn = await new ConnectionsApiStandIn().start();
  const context = (client: (typeof clients)[number]): SubscribingContext => ({
    connectionLimits: { maxChannels: 100, ops: UNLIMITED_OPS },
    state: { client, tableName: table.name },
    connections: connectionsApi(standIn.endpoint, 'us-east-1'),
    logger: recordingLogger(),
    now: () => Date.now(),
  });
  held = context(clients[0]);
  other = context(clients[1]);
});

afterAll(async () => {
  await standIn.close();
  await table.drop();
  held.state.client.destroy();
  other.state.client.destroy();
});

const CHANNEL = 'presence-room';

/** A connection `$connect` recorded and API Gateway opened. */
async function connected(appId: string): Promise<string> {
  const connectionId = `conn-${randomUUID()}`;
  await putConnection(other.state, {
    connectionId,
    appId,
    connectedAtMs: Date.now(),
    bucket: undefined,
    channels: [],
    user: undefined,
    webhooks: '',
  });
  standIn.open(connectionId);
  return connectionId;
}

/** `pusher:subscribe` to the presence channel as `userId`, signed as the app's backend would. */
function subscribeAs(
  context: SubscribingContext,
  appId: string,
  connectionId: string,
  userId: string,
  app = testApp(appId, { maxPresenceMembersPerChannel: 2 }),
) {
  const channelData = JSON.stringify({ user_id: userId });
  const { auth } = signChannel({
    key: app.key,
    secret: app.secret,
    socketId: socketIdOf(connectionId),
    channel: CHANNEL,
    channelData,
  });
  return subscribe(context, app, connectionId, {
    channel: CHANNEL,
    auth,
    channelData,
  });
}

const refused = (outcome: Outcome) => outcome.reply?.event === 'pusher:subscription_error';

/** The rosters posted to a connection (`subscription_succeeded`), as id lists. */
const rostersOf = (connectionId: string): string[][] =>
  standIn
    .framesOf(connectionId)
    .filter((frame) => frame.event === 'pusher_internal:subscription_succeeded')
    .map((frame) => JSON.parse(frame.data as string).presence.ids);

/** `member_added` and `member_removed` posted to a connection, as `<event>:<user id>`. */
const announcementsTo = (connectionId: string): string[] =>
  standIn
    .framesOf(connectionId)
    .filter((frame) => frame.event.startsWith('pusher_internal:member_'))
    .map(
      (frame) =>
        `${frame.event.slice('pusher_internal:member_'.length)}:${JSON.parse(frame.data as string).user_id}`,
    );

const memberIds = async (appId: string) =>
  (await readChannel(other.state, appId, CHANNEL, Date.now())).members.map((member) => member.userId).sort();

/**
 * Runs `first` with its calls held before its `callNumber`-th, runs `second` to its end meanwhile, then lets
 * `first` finish (`second` runs after `first` when `first` made fewer calls).
 */
async function interleave<A, B>(callNumber: number, first: () => Promise<A>, second: () => Promise<B>) {
  const armed = hold.arm(callNumber);
  const firstResult = first();
  const inside = await armed.reached(firstResult);
  const secondResult = await second();
  hold.release();
  return { first: await firstResult, second: secondResult, inside };
}

describe('presence members at the limit, joining at once', () => {
  it.each([1, 2, 3, 4, 5, 6, 7])(
    'a join refused as full never shows in a roster or an announcement (other join before call %i)',
    async (callNumber) => {
      const appId = `app-${randomUUID()}`;
      const ann = await connected(appId);
      await subscribeAs(other, appId, ann, 'ann');
      const [bob, cat] = [await connected(appId), await connected(appId)];

      const { first, second } = await interleave(
        callNumber,
        () => subscribeAs(held, appId, cat, 'cat'),
        () => subscribeAs(other, appId, bob, 'bob'),
      );

      expect([first, second].filter(refused)).toHaveLength(1);
      const members = await memberIds(appId);
      expect(members).toHaveLength(2);
      for (const connectionId of [bob, cat]) {
        for (const roster of rostersOf(connectionId)) expect(members).toEqual(expect.arrayContaining(roster));
      }
      const newcomer = members.find((id) => id !== 'ann');
      expect(announcementsTo(ann)).toEqual([`added:${newcomer}`]);
      expect(await listChannels(other.state, appId, CHANNEL, Date.now())).toEqual([
        { channel: CHANNEL, subscriptionCount: 2, userCount: 2 },
      ]);
    },
  );

  it.each([1, 2, 3, 4, 5, 6, 7])(
    'two connections of a new user joining a full channel at once are both refused (one before call %i)',
    async (callNumber) => {
      const appId = `app-${randomUUID()}`;
      const ann = await connected(appId);
      await subscribeAs(other, appId, ann, 'ann');
      await subscribeAs(other, appId, await connected(appId), 'cat');
      const [tab1, tab2] = [await connected(appId), await connected(appId)];

      const { first, second } = await interleave(
        callNumber,
        () => subscribeAs(held, appId, tab2, 'bob'),
        () => subscribeAs(other, appId, tab1, 'bob'),
      );

      for (const outcome of [first, second]) {
        expect(outcome.reply).toMatchObject({ event: 'pusher:subscription_error', data: { status: 4100 } });
      }
      expect(await memberIds(appId)).toEqual(['ann', 'cat']);
      expect(await listChannels(other.state, appId, CHANNEL, Date.now())).toEqual([
        { channel: CHANNEL, subscriptionCount: 2, userCount: 2 },
      ]);
      expect(announcementsTo(ann)).toEqual(['added:cat']);
    },
  );
});

describe('a member count that leaked', () => {
  it('is recounted when a join is refused as full, so the channel is not blocked for good', async () => {
    const appId = `app-${randomUUID()}`;
    const ann = await connected(appId);
    await subscribeAs(other, appId, ann, 'ann');
    // A subscribe that counted its member, then died before writing it (a Lambda timeout), long ago.
    const longAgo = Date.now() - 10 * 60 * 1000;
    await countSubscription(
      other.state,
      appId,
      CHANNEL,
      { subscriptions: 1, users: 1, maxUsers: 2 },
      longAgo,
    );

    const bob = await connected(appId);
    await subscribeAs(other, appId, bob, 'bob');

    expect(rostersOf(bob)).toEqual([['ann', 'bob']]);
    expect(await listChannels(other.state, appId, CHANNEL, Date.now())).toMatchObject([{ userCount: 2 }]);
  });

  it('is left alone while a count may belong to a join still on its way', async () => {
    const appId = `app-${randomUUID()}`;
    const ann = await connected(appId);
    await subscribeAs(other, appId, ann, 'ann');
    await countSubscription(
      other.state,
      appId,
      CHANNEL,
      { subscriptions: 1, users: 1, maxUsers: 2 },
      Date.now(),
    );

    const bob = await subscribeAs(other, appId, await connected(appId), 'bob');

    expect(bob.reply).toMatchObject({ event: 'pusher:subscription_error', data: { status: 4100 } });
  });
});

describe('a subscribe racing the connection going away', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    'leaves no subscriber, count or member, and announces no one, when $disconnect runs before call %i',
    async (callNumber) => {
      const appId = `app-${randomUUID()}`;
      const ann = await connected(appId);
      await subscribeAs(other, appId, ann, 'ann');
      const bob = await connected(appId);

      const { first } = await interleave(
        callNumber,
        () => subscribeAs(held, appId, bob, 'bob'),
        async () => {
          standIn.drop(bob);
          await cleanUpConnections(other, [{ connectionId: bob }]);
        },
      );
      // As `$default` does with connections found gone on the way.
      await cleanUpConnections(held, first.gone);

      const { subscriberConnectionIds } = await readChannel(other.state, appId, CHANNEL, Date.now());
      expect(subscriberConnectionIds).toEqual([ann]);
      expect(await memberIds(appId)).toEqual(['ann']);
      expect(await listChannels(other.state, appId, CHANNEL, Date.now())).toEqual([
        { channel: CHANNEL, subscriptionCount: 1, userCount: 1 },
      ]);
      // Never a member_added left standing: the last word on bob, if any, is member_removed (pusher-js
      // ignores a removal of a member it never saw added, and one more of a removed member).
      expect(announcementsTo(ann).at(-1) ?? 'removed:bob').toBe('removed:bob');
    },
  );
});

/** The `@connections` API with one of its posts held (see `callHold`). */
function holdingPosts(api: ConnectionsApi) {
  const hold = callHold();
  const holding: ConnectionsApi = {
    post: (connectionId, frame) => hold.pass().then(() => api.post(connectionId, frame)),
    disconnect: (connectionId) => api.disconnect(connectionId),
    probe: (connectionId) => api.probe(connectionId),
  };
  return { api: holding, hold };
}

/**
 * The members pusher-js shows after these frames, in arrival order: `subscription_succeeded` replaces the
 * list (`Members.onSubscription`), `member_added` and `member_removed` change it.
 */
function membersShown(frames: readonly ReceivedFrame[]): string[] | undefined {
  let shown: Set<string> | undefined;
  for (const frame of frames) {
    if (frame.event === 'pusher_internal:subscription_succeeded') {
      shown = new Set(JSON.parse(frame.data as string).presence.ids);
    } else if (frame.event === 'pusher_internal:member_added') {
      shown?.add(JSON.parse(frame.data as string).user_id);
    } else if (frame.event === 'pusher_internal:member_removed') {
      shown?.delete(JSON.parse(frame.data as string).user_id);
    }
  }
  return shown && [...shown].sort();
}

describe('the roster a new presence member receives', () => {
  const changes = {
    joins: async (appId: string) => {
      await subscribeAs(other, appId, await connected(appId), 'dan', testApp(appId));
    },
    leaves: async (appId: string, leaver: string) => {
      await unsubscribe(other, appId, leaver, CHANNEL);
    },
  };
  it.each([
    ['joins', 1],
    ['joins', 2],
    ['joins', 3],
    ['joins', 4],
    ['leaves', 1],
    ['leaves', 2],
    ['leaves', 3],
    ['leaves', 4],
  ] as const)(
    'ends on the channel members when another user %s before post %i of the subscribe',
    async (change, postNumber) => {
      const appId = `app-${randomUUID()}`;
      const app = testApp(appId);
      const ann = await connected(appId);
      await subscribeAs(other, appId, ann, 'ann', app);
      const cat = await connected(appId);
      await subscribeAs(other, appId, cat, 'cat', app);
      const bob = await connected(appId);
      const posts = holdingPosts(other.connections);

      const armed = posts.hold.arm(postNumber);
      // API Gateway sends the route response when the Lambda returns: after the frames posted until then.
      let postedBeforeReturn = 0;
      const subscribing = subscribeAs({ ...other, connections: posts.api }, appId, bob, 'bob', app).then(
        (outcome) => {
          postedBeforeReturn = standIn.framesOf(bob).length;
          return outcome;
        },
      );
      await armed.reached(subscribing);
      await changes[change](appId, cat);
      posts.hold.release();
      const { reply } = await subscribing;

      const received = standIn.framesOf(bob);
      if (reply) received.splice(postedBeforeReturn, 0, reply as ReceivedFrame);
      expect(membersShown(received)).toEqual(await memberIds(appId));
    },
  );
});

describe('a user who leaves and comes back at once (a page reload)', () => {
  /** ann watching; bob present through `oldTab`; posts of the leave can be held (two of them, in order). */
  async function reloadScene() {
    const appId = `app-${randomUUID()}`;
    const app = testApp(appId);
    const ann = await connected(appId);
    await subscribeAs(other, appId, ann, 'ann', app);
    const oldTab = await connected(appId);
    await subscribeAs(other, appId, oldTab, 'bob', app);
    const firstPost = holdingPosts(other.connections);
    const secondPost = holdingPosts(firstPost.api);
    const leaving = { ...other, connections: secondPost.api };
    const returns = async () => {
      const newTab = await connected(appId);
      await subscribeAs(other, appId, newTab, 'bob', app);
      return newTab;
    };
    return { appId, ann, oldTab, firstPost, secondPost, leaving, returns };
  }

  it.each(['unsubscribe', '$disconnect'] as const)(
    "stays in the others' rosters when the leave (%s) is announced after the return",
    async (leave) => {
      const { appId, ann, oldTab, firstPost, leaving, returns } = await reloadScene();

      // The leave has taken bob off the channel and is about to post member_removed when bob's new tab joins.
      const armed = firstPost.hold.arm(1);
      const left =
        leave === 'unsubscribe'
          ? unsubscribe(leaving, appId, oldTab, CHANNEL)
          : cleanUpConnections(leaving, [{ connectionId: oldTab }]);
      expect(await armed.reached(left)).toBe(true);
      const newTab = await returns();
      firstPost.hold.release();
      await left;

      expect(await memberIds(appId)).toEqual(['ann', 'bob']);
      expect(announcementsTo(ann)).toEqual(['added:bob', 'added:bob', 'removed:bob', 'added:bob']);
      expect(membersShown(standIn.framesOf(ann))).toEqual(['ann', 'bob']);
      // bob's own tab has its roster and is never told of itself.
      expect(announcementsTo(newTab)).toEqual([]);
      expect(membersShown(standIn.framesOf(newTab))).toEqual(['ann', 'bob']);
    },
  );

  it("keeps the user in their new tab's roster when the new tab joins before the leave reads the channel", async () => {
    const { appId, ann, oldTab, returns } = await reloadScene();

    // The leave's fifth call is its read of the channel: bob's member item is gone, the new tab joins.
    const {
      first: left,
      second: newTab,
      inside,
    } = await interleave(5, () => unsubscribe(held, appId, oldTab, CHANNEL), returns);
    expect(inside).toBe(true);
    expect(left.reply).toBeUndefined();

    expect(await memberIds(appId)).toEqual(['ann', 'bob']);
    expect(membersShown(standIn.framesOf(newTab))).toEqual(['ann', 'bob']);
    expect(announcementsTo(newTab)).toEqual([]);
    expect(membersShown(standIn.framesOf(ann))).toEqual(['ann', 'bob']);
    // bob was back when the leave read the channel: it announced nothing.
    expect(announcementsTo(ann)).toEqual(['added:bob', 'added:bob']);
  });

  it("never tells a user's other tab that the user joined (two tabs opening at once)", async () => {
    const appId = `app-${randomUUID()}`;
    const app = testApp(appId);
    const ann = await connected(appId);
    await subscribeAs(other, appId, ann, 'ann', app);
    const [tabA, tabB] = [await connected(appId), await connected(appId)];

    // Tab A is the user's first connection and is held before its roster read while tab B joins fully.
    const { inside } = await interleave(
      5,
      () => subscribeAs(held, appId, tabA, 'bob', app),
      () => subscribeAs(other, appId, tabB, 'bob', app),
    );
    expect(inside).toBe(true);

    expect(await memberIds(appId)).toEqual(['ann', 'bob']);
    expect(announcementsTo(tabA)).toEqual([]);
    expect(announcementsTo(tabB)).toEqual([]);
    expect(membersShown(standIn.framesOf(tabB))).toEqual(['ann', 'bob']);
    expect(membersShown(standIn.framesOf(ann))).toEqual(['ann', 'bob']);
  });

  it('ends without the user when the new tab leaves too while the return is being announced', async () => {
    const { appId, ann, oldTab, firstPost, secondPost, leaving, returns } = await reloadScene();

    const heldRemoval = firstPost.hold.arm(1);
    const heldReturn = secondPost.hold.arm(2);
    const left = unsubscribe(leaving, appId, oldTab, CHANNEL);
    expect(await heldRemoval.reached(left)).toBe(true);
    const newTab = await returns();
    firstPost.hold.release();
    expect(await heldReturn.reached(left)).toBe(true);
    await unsubscribe(other, appId, newTab, CHANNEL);
    secondPost.hold.release();
    await left;

    expect(await memberIds(appId)).toEqual(['ann']);
    expect(announcementsTo(ann).at(-1)).toBe('removed:bob');
    expect(membersShown(standIn.framesOf(ann))).toEqual(['ann']);
  });
});

describe('a presence roster that would pass the 128,000-byte frame limit', () => {
  it('refuses the join that would make it too large with LimitReached, and leaves the channel as it was', async () => {
    const app = testApp(`roster-${randomUUID()}`, {
      maxPresenceMembersPerChannel: 1000,
      maxPresenceMemberSizeInKb: 10,
    });
    // Quotes are escaped twice in the frame (inside the data string, inside the frame): about 7 KB a member.
    const info = { bio: '"'.repeat(1_800) };
    const join = async (userId: string) => {
      const connectionId = await connected(app.id);
      const channelData = JSON.stringify({ user_id: userId, user_info: info });
      const { auth } = signChannel({
        key: app.key,
        secret: app.secret,
        socketId: socketIdOf(connectionId),
        channel: CHANNEL,
        channelData,
      });
      return {
        connectionId,
        outcome: await subscribe(other, app, connectionId, {
          channel: CHANNEL,
          auth,
          channelData,
        }),
      };
    };
    let joined = 0;
    let last: Awaited<ReturnType<typeof join>> | undefined;
    while (joined < 60) {
      last = await join(`user-${joined}`);
      if (refused(last.outcome)) break;
      joined++;
    }
    expect(joined).toBeGreaterThan(10);
    expect(joined).toBeLessThan(30);
    expect(last!.outcome.reply).toMatchObject({
      event: 'pusher:subscription_error',
      data: {
        type: 'LimitReached',
        status: 4100,
        error: expect.stringContaining("over API Gateway's limit of 128000 bytes"),
      },
    });
    expect(await memberIds(app.id)).toHaveLength(joined);
    expect(rostersOf(last!.connectionId)).toEqual([]);
  });
});
