import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App, Webhook } from '../../../src/apps/app.js';
import { toAppItem } from '../../../src/apps/parse-item.js';
import { createAppResolver } from '../../../src/apps/resolver.js';
import { loadConfig } from '../../../src/config/config.js';
import { signWebhook } from '../../../src/protocol/webhook-signature.js';
import type { StateTable } from '../../../src/state/table.js';
import { createDelivery } from '../../../src/webhooks/delivery.js';
import {
  channelOccupied,
  channelVacated,
  clientEventWebhook,
  type WebhookEvent,
} from '../../../src/webhooks/events.js';
import type { DeadLetter, WebhookMessage } from '../../../src/webhooks/messages.js';
import type { QueueEntry, WebhookQueue } from '../../../src/webhooks/queue.js';
import { type SenderDeps, sendWebhooks } from '../../../src/webhooks/sender.js';
import { type AppsTestTable, appsTestTable } from '../../fixtures/apps/apps-table.js';
import { testApp } from '../../fixtures/apps/items.js';
import { type CaptureResponse, CaptureServer } from '../../support/capture-server.js';
import { createStateTable, type TestTable, testClient } from '../../support/dynamodb.js';
import { recordingLogger } from '../../support/recording-logger.js';

/** A queue that keeps what it is sent, standing in for SQS where the test reads the entries themselves. */
class KeptQueue implements WebhookQueue {
  readonly entries: QueueEntry[] = [];
  async send(entries: readonly QueueEntry[]) {
    this.entries.push(...entries);
    return { failed: 0 };
  }
}

let apps: AppsTestTable;
let stateTable: TestTable;
let state: StateTable;
let receiver: CaptureServer;
let answers: CaptureResponse[];

beforeAll(async () => {
  apps = await appsTestTable('sender');
  const client = testClient();
  stateTable = await createStateTable(client, 'sender');
  state = { client, tableName: stateTable.name };
  receiver = await new CaptureServer({
    response: () => answers.shift() ?? { status: 200, body: 'ok' },
  }).start();
});

afterAll(async () => {
  await receiver.close();
  await stateTable.drop();
  state.client.destroy();
  await apps.drop();
});

beforeEach(() => {
  answers = [];
});

const NOW = 1_800_000_000_000;
const hookTo = (path: string, overrides: Partial<Webhook> = {}): Webhook => ({
  url: `http://127.0.0.1:${receiver.port}${path}`,
  eventTypes: ['channel_occupied', 'channel_vacated', 'client_event'],
  ...overrides,
});

async function appWith(id: string, webhooks: Webhook[]): Promise<App> {
  const app = testApp(id, { webhooks });
  await apps.put(toAppItem(app));
  return app;
}

function sender(overrides: Partial<SenderDeps> = {}) {
  const retries = new KeptQueue();
  const deadLetters = new KeptQueue();
  const deps: SenderDeps = {
    apps: createAppResolver({
      config: loadConfig({ APP_MANAGER_DYNAMODB_TABLE: apps.name }),
      client: apps.client,
      cache: { enabled: false },
    }),
    state,
    retries,
    deadLetters,
    deliver: createDelivery({
      timeoutMs: 2_000,
      allowPrivateUrls: true,
      lambdaFunctions: [],
      lambdaEndpoints: false,
    }),
    logger: recordingLogger(),
    now: () => NOW,
    config: { batching: false, retryBudgetMs: 270_000 },
    random: () => 0,
    ...overrides,
  };
  return { deps, retries, deadLetters };
}

let raisedAt = 0;
function raised(appId: string, events: WebhookEvent[], timeMs = NOW): { messageId: string; body: string } {
  const message: WebhookMessage = {
    v: 1,
    type: 'raised',
    appId,
    timeMs,
    events: events.map((event) => ({ event, at: ++raisedAt })),
  };
  return { messageId: `m${raisedAt}`, body: JSON.stringify(message) };
}

describe('sendWebhooks', () => {
  it('posts each event signed with its own app, to every webhook that wants it, two on one URL included', async () => {
    const one = await appWith('one', [hookTo('/a'), hookTo('/a')]);
    const two = await appWith('two', [hookTo('/b', { eventTypes: ['client_event'] })]);
    const { deps } = sender();
    const results = await sendWebhooks(deps, [
      raised(one.id, [channelOccupied('news')]),
      raised(two.id, [
        channelOccupied('news'),
        clientEventWebhook('private-c', 'client-x', { a: 1 }, '1.2', undefined),
      ]),
    ]);
    expect(results.map(({ status }) => status)).toEqual(['fulfilled', 'fulfilled']);
    const requests = await Promise.all([receiver.next(), receiver.next(), receiver.next()]);
    const byPath = (path: string) => requests.filter((request) => request.url === path);
    expect(byPath('/a')).toHaveLength(2);
    for (const request of byPath('/a')) {
      expect(JSON.parse(request.body.toString())).toEqual({
        time_ms: NOW,
        events: [{ name: 'channel_occupied', channel: 'news' }],
      });
      expect(request.headers['x-pusher-key']).toBe(one.key);
      expect(request.headers['x-pusher-signature']).toBe(signWebhook(request.body, one.secret));
    }
    const [b] = byPath('/b');
    expect(JSON.parse(b!.body.toString()).events).toEqual([
      { name: 'client_event', channel: 'private-c', event: 'client-x', data: '{"a":1}', socket_id: '1.2' },
    ]);
    expect(b!.headers['x-pusher-signature']).toBe(signWebhook(b!.body, two.secret));
    expect(b!.headers['content-type']).toBe('application/json');
  });

  it('sends a transition once: a redelivered occupied is sent again at worst, a repeated one never', async () => {
    const app = await appWith('seq', [hookTo('/seq')]);
    const { deps } = sender();
    const first = raised(app.id, [channelOccupied('room')]);
    await sendWebhooks(deps, [first]);
    await sendWebhooks(deps, [raised(app.id, [channelOccupied('room')])]);
    await sendWebhooks(deps, [raised(app.id, [channelVacated('room')])]);
    const bodies = [await receiver.next(), await receiver.next()].map((request) =>
      JSON.parse(request.body.toString()),
    );
    expect(bodies.map((body) => body.events[0].name)).toEqual(['channel_occupied', 'channel_vacated']);
    await expect(receiver.next(500)).rejects.toThrow(/no request/);
  });

  it('retries a 5xx by enqueueing the same body with its delay, then delivers it from the retry message', async () => {
    const app = await appWith('retry', [hookTo('/retry')]);
    const { deps, retries, deadLetters } = sender();
    answers = [{ status: 503, body: 'busy' }];
    await sendWebhooks(deps, [raised(app.id, [channelOccupied('r')], NOW - 1000)]);
    const failed = await receiver.next();
    expect(retries.entries).toHaveLength(1);
    expect(retries.entries[0]!.delaySeconds).toBe(1);
    const retry = JSON.parse(retries.entries[0]!.body) as WebhookMessage;
    expect(retry).toMatchObject({ type: 'retry', appId: app.id, timeMs: NOW - 1000, attempts: 1 });
    expect(retries.entries[0]!.body).not.toContain(app.secret);

    await sendWebhooks(deps, [{ messageId: 'r1', body: retries.entries[0]!.body }]);
    const delivered = await receiver.next();
    expect(delivered.body.equals(failed.body)).toBe(true);
    expect(retries.entries).toHaveLength(1);
    expect(deadLetters.entries).toHaveLength(0);
  });

  it('dead-letters a 400 at once, and a 5xx whose next try falls past the budget, each with its reason', async () => {
    const app = await appWith('dead', [hookTo('/dead?token=s3cret')]);
    const { deps, retries, deadLetters } = sender({ config: { batching: false, retryBudgetMs: 500 } });
    answers = [
      { status: 400, body: 'no' },
      { status: 500, body: 'down' },
    ];
    await sendWebhooks(deps, [raised(app.id, [channelOccupied('d1')])]);
    await sendWebhooks(deps, [raised(app.id, [channelOccupied('d2')])]);
    await receiver.next();
    await receiver.next();
    expect(retries.entries).toHaveLength(0);
    const letters = deadLetters.entries.map((entry) => JSON.parse(entry.body) as DeadLetter);
    expect(letters.map(({ reason }) => reason)).toEqual([
      'HTTP 400',
      'retry budget exhausted after 1 attempts (last: HTTP 500)',
    ]);
    expect(letters[0]).toMatchObject({
      appId: app.id,
      target: `url:http://127.0.0.1:${receiver.port}`,
      attempts: 1,
    });
    expect(JSON.stringify(letters)).not.toContain('s3cret');
  });

  it('refuses private addresses and functions the stage does not name, for good', async () => {
    const app = await appWith('guarded', [
      hookTo('/never'),
      { lambdaFunction: 'audit', eventTypes: ['channel_occupied'] },
    ]);
    const { deps, deadLetters } = sender({
      deliver: createDelivery({
        timeoutMs: 2_000,
        allowPrivateUrls: false,
        lambdaFunctions: [],
        lambdaEndpoints: false,
      }),
    });
    await sendWebhooks(deps, [raised(app.id, [channelOccupied('g')])]);
    const reasons = deadLetters.entries.map((entry) => (JSON.parse(entry.body) as DeadLetter).reason);
    expect(reasons).toEqual([
      expect.stringContaining('loopback, link-local or private address'),
      'function audit is not one this stage may invoke (WEBHOOKS_LAMBDA_FUNCTIONS)',
    ]);
    await expect(receiver.next(300)).rejects.toThrow(/no request/);
  });

  it('drops the events of an unknown app, and hands back to SQS a record whose app cannot be read', async () => {
    const { deps } = sender();
    expect((await sendWebhooks(deps, [raised('nobody', [channelOccupied('x')])]))[0]!.status).toBe(
      'fulfilled',
    );
    const unreadable = sender({
      apps: {
        byId: async () => {
          throw new Error('DynamoDB unavailable');
        },
      },
    });
    const results = await sendWebhooks(unreadable.deps, [
      raised('any', [channelOccupied('x')]),
      { messageId: 'junk', body: '{' },
    ]);
    expect(results.map(({ status }) => status)).toEqual(['rejected', 'fulfilled']);
  });

  it("with batching, puts only the events a filter lets through in each webhook's body, and signs that body", async () => {
    const app = await appWith('batched', [
      hookTo('/presence', { filter: { channelNameStartsWith: 'presence-' } }),
      hookTo('/rest', { filter: { channelNameEndsWith: '-news' } }),
    ]);
    const { deps } = sender({ config: { batching: true, retryBudgetMs: 270_000 } });
    await sendWebhooks(deps, [
      raised(app.id, [channelOccupied('presence-a'), channelOccupied('daily-news')]),
      raised(app.id, [channelOccupied('presence-b')]),
    ]);
    const requests = [await receiver.next(), await receiver.next()].sort((a, b) =>
      a.url.localeCompare(b.url),
    );
    expect(
      requests.map((request) => [
        request.url,
        JSON.parse(request.body.toString()).events.map((e: WebhookEvent) => e.channel),
      ]),
    ).toEqual([
      ['/presence', ['presence-a', 'presence-b']],
      ['/rest', ['daily-news']],
    ]);
    for (const request of requests)
      expect(request.headers['x-pusher-signature']).toBe(signWebhook(request.body, app.secret));
  });
});
