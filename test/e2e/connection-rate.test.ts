import { afterEach, describe, expect, it } from 'vitest';
import { useAuthServer } from '../support/auth-server.js';
import { useLocalStack } from '../support/local-stack.js';
import { nextEvent, PusherJsClients } from '../support/pusher-js.js';
import { serverSdk } from '../support/pusher-sdk.js';

/*
 * The subscribe/signin rate of one connection on npm start's stack, with real pusher-js: three at once, then
 * one every 100 s (so nothing comes back while the test runs, however slow the machine).
 */

const TOO_FAST =
  'A connection may subscribe and sign in at most 0.01 times a second (3 at once); try again shortly';

describe('the per-connection subscribe and signin rate on the local stack', () => {
  const local = useLocalStack('e2e-connection-rate', [], {
    env: { ...process.env, CONNECTION_OPS_PER_SECOND: '0.01', CONNECTION_OPS_BURST: '3' },
  });
  const clients = new PusherJsClients();
  const backend = useAuthServer(() => local.stack.app);
  afterEach(() => clients.disconnectAll());

  const occupied = async (channel: string) => {
    const response = await serverSdk(local.stack, local.stack.app).get({ path: `/channels/${channel}` });
    return ((await response.json()) as { occupied: boolean }).occupied;
  };

  it('refuses the subscribe past the burst with LimitReached 4301, a signin with pusher:error 4301, and takes the unsubscribe', async () => {
    const client = clients.connect({
      key: local.stack.app.key,
      port: local.stack.port,
      auth: backend.server,
      authParams: { user_id: 'quick' },
    });
    await client.connected();
    const outcomes = [];
    for (const channel of ['rate-a', 'rate-b', 'rate-c', 'rate-d']) {
      outcomes.push(await client.subscription(channel));
    }
    const refusedSignin = nextEvent(client.pusher.connection, 'error', 'the signin refusal');
    client.pusher.signin();

    expect(outcomes.map((outcome) => outcome.succeeded)).toEqual([true, true, true, false]);
    expect(outcomes[3]).toMatchObject({ error: { type: 'LimitReached', error: TOO_FAST, status: 4301 } });
    await expect(refusedSignin).resolves.toMatchObject({
      type: 'PusherError',
      data: { code: 4301, message: TOO_FAST },
    });
    // Never refused: the channel empties although the credit is used up.
    client.pusher.unsubscribe('rate-a');
    await expect.poll(() => occupied('rate-a'), { timeout: 10_000 }).toBe(false);
    expect(await occupied('rate-b')).toBe(true);
    expect(await occupied('rate-d')).toBe(false);
    expect(client.pusher.connection.state).toBe('connected');
  });
});
