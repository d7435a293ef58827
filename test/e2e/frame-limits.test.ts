import { afterEach, describe, expect, it } from 'vitest';
import { UNLIMITED } from '../../src/apps/app.js';
import { MAX_FRAME_BYTES } from '../../src/protocol/frames.js';
import { testApp } from '../fixtures/apps/items.js';
import { useAuthServer } from '../support/auth-server.js';
import { useLocalStack } from '../support/local-stack.js';
import { nextEvent, PusherJsClients } from '../support/pusher-js.js';
import { jsonOf, refusalOf, serverSdk } from '../support/pusher-sdk.js';

/*
 * API Gateway's 128 KB per message, held end to end on npm start's stack (whose @connections API refuses
 * what AWS refuses): the real pusher SDK publishing, real pusher-js clients receiving and joining.
 */

/** The demo app's limits are the defaults: MaxEventPayloadInKb 100, MaxPresenceMemberSizeInKb 2. */
const UNLIMITED_NAMES = testApp('e2e-unlimited-names', { maxChannelNameLength: UNLIMITED });
/**
 * A name whose user_info (`{"name":"\"\"…"}`, about 2,010 bytes) is under MaxPresenceMemberSizeInKb (2 KB),
 * and escapes again in a roster: a few dozen such members pass 128,000 bytes, far fewer than the 100 allowed.
 */
const HEAVY_NAME = '"'.repeat(1_000);

describe('frame limits on the local stack', () => {
  const local = useLocalStack('e2e-frame-limits', [UNLIMITED_NAMES]);
  const clients = new PusherJsClients();
  const backend = useAuthServer(() => local.stack.app);
  afterEach(() => clients.disconnectAll());

  it('refuses 70 KB of " with 413: under the 100 KB data limit, about 140 KB once escaped in the frame', async () => {
    const sdk = serverSdk(local.stack, local.stack.app);
    const receiver = clients.connect({ key: local.stack.app.key, port: local.stack.port });
    await receiver.connected();
    const channel = await receiver.subscribe('e2e-quotes');
    const delivered = nextEvent<string>(channel, 'quotes', 'the 60 KB event');

    const refused = await refusalOf(sdk.trigger('e2e-quotes', 'quotes', '"'.repeat(70_000)));
    expect(await jsonOf(sdk.trigger('e2e-quotes', 'quotes', '"'.repeat(60_000)))).toEqual({});

    expect(refused).toEqual({
      status: 413,
      body: expect.stringContaining(`over API Gateway's limit of ${MAX_FRAME_BYTES} bytes`),
    });
    // The one that fits arrives whole; the refused one never does (it would come first).
    expect(await delivered).toBe('"'.repeat(60_000));
  });

  it('answers a 3,000-character channel name with 400, to POST /events and GET /channels/{name}, where the app allows any length', async () => {
    const sdk = serverSdk(local.stack, UNLIMITED_NAMES);
    const name = `e2e-${'n'.repeat(2_996)}`;

    // The SDK's trigger() refuses names over 200 characters itself; its post() signs what a backend sends
    // (and JSON-encodes its body, whatever its type definitions say).
    const body = { name: 'event', channels: [name], data: 'x' } as unknown as string;
    const published = await refusalOf(sdk.post({ path: '/events', body }));
    const queried = await refusalOf(sdk.get({ path: `/channels/${name}` }));

    expect(published.status).toBe(400);
    expect(queried.status).toBe(400);
    expect(published.body).toMatch(/too long/);
  });

  it('refuses the join that would make a roster pass 128,000 bytes with LimitReached; the members already in keep their places', {
    timeout: 60_000,
  }, async () => {
    const outcomes: { userId: string; succeeded: boolean; error?: unknown }[] = [];
    // Joined one by one until the roster is full: the loop ends at the first refusal.
    for (let i = 0; i < 60; i++) {
      const userId = `heavy-${i}`;
      const client = clients.connect({
        key: local.stack.app.key,
        port: local.stack.port,
        auth: backend.server,
        authParams: { user_id: userId, user_name: HEAVY_NAME },
      });
      await client.connected();
      const outcome = await client.subscription('presence-e2e-heavy');
      outcomes.push({
        userId,
        succeeded: outcome.succeeded,
        ...(!outcome.succeeded && { error: outcome.error }),
      });
      if (!outcome.succeeded) break;
    }

    const refused = outcomes.at(-1)!;
    expect(refused.succeeded).toBe(false);
    expect(refused.error).toMatchObject({
      type: 'LimitReached',
      status: 4100,
      error: expect.stringContaining(`${MAX_FRAME_BYTES} bytes`),
    });
    expect(outcomes.slice(0, -1).every((outcome) => outcome.succeeded)).toBe(true);
    const users = await jsonOf<{ users: { id: string }[] }>(
      serverSdk(local.stack, local.stack.app).get({ path: '/channels/presence-e2e-heavy/users' }),
    );
    expect(users.users.map((user) => user.id).sort()).toEqual(
      outcomes
        .slice(0, -1)
        .map((outcome) => outcome.userId)
        .sort(),
    );
  });
});
