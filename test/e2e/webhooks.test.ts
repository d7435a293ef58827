import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import Pusher from 'pusher';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App, Webhook } from '../../src/apps/app.js';
import type { LocalStack } from '../../src/local/stack.js';
import { listChannels } from '../../src/state/channels.js';
import type { WebhookEvent } from '../../src/webhooks/events.js';
import type { DeadLetter } from '../../src/webhooks/messages.js';
import { testApp } from '../fixtures/apps/items.js';
import { type AuthServer, startAuthServer } from '../support/auth-server.js';
import { type CapturedRequest, type CaptureResponse, CaptureServer } from '../support/capture-server.js';
import { seedApps, stackClient, useLocalStack } from '../support/local-stack.js';
import { type PusherJsClient, PusherJsClients } from '../support/pusher-js.js';

/*
 * Webhooks end to end: real pusher-js clients on the local stack raise the events, the stack's queue and event
 * source hand them to the real sender Lambda, and a loopback receiver checks every request with the real
 * `pusher` SDK's webhook check.
 */

/** How long the tests wait, in ms, each measured or bounded by what the stack promises. */
const WAIT = {
  /** An event that goes at once (occupied, member_added, client_event): ~0.3 s measured. */
  atOnce: 10_000,
  /** A departure (vacated, member_removed): it waits 3 s in the queue, ~3.4 s measured. */
  departure: 12_000,
  /** The queue's departure delay: a departure never arrives sooner after the client left. */
  departureDelay: 3_000,
  /** The emulator's delays are whole seconds and its clock is ours; a little slack for timer granularity. */
  timerSlack: 100,
  /** After the last expected request: long enough for a stray one (a repeat, a retry) to have arrived. */
  quiet: 1_500,
  /** A dead letter, once its last attempt was answered. */
  deadLetter: 10_000,
  poll: 25,
};

/** Unique channel names even if the same stack's data outlived a run (it does not: dynalite is in memory). */
const RUN = Date.now().toString(36);
const REGION = process.env.AWS_REGION ?? 'us-east-1';

type Body = { readonly time_ms: number; readonly events: readonly WebhookEvent[] };

/** One request as the receiver saw it, and when. */
interface Received {
  readonly request: CapturedRequest;
  readonly path: string;
  readonly rawBody: string;
  /** The parsed body: a webhook body, or for a Lambda target the Invoke payload. */
  readonly json: unknown;
  readonly at: number;
}

const bodyOf = (received: Received) => received.json as Body;
const eventsOf = (received: readonly Received[]) => received.flatMap((r) => bodyOf(r).events);

const OK: CaptureResponse = { status: 200, body: '{}', headers: { 'content-type': 'application/json' } };

/** A CaptureServer that keeps every request in arrival order and answers the n-th one (from 0) as told. */
class Receiver {
  readonly received: Received[] = [];
  private readonly server: CaptureServer;

  constructor(answer: (index: number) => CaptureResponse = () => OK) {
    this.server = new CaptureServer({
      response: (request) => {
        const rawBody = request.body.toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(rawBody);
        } catch {
          json = undefined;
        }
        const index = this.received.length;
        this.received.push({
          request,
          path: new URL(request.url, 'http://receiver').pathname,
          rawBody,
          json,
          at: Date.now(),
        });
        return answer(index);
      },
    });
  }

  async start(): Promise<this> {
    await this.server.start();
    return this;
  }

  get origin(): string {
    return `http://${this.server.host}:${this.server.port}`;
  }

  url(path: string): string {
    return `${this.origin}${path}`;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  /** The requests at `path` with an event on `channels` (of `name`, if given), in arrival order. */
  on(path: string, channels: string | readonly string[], name?: WebhookEvent['name']): Received[] {
    const wanted = typeof channels === 'string' ? [channels] : channels;
    return this.received.filter(
      (r) =>
        r.path === path &&
        bodyOf(r)?.events?.some(
          (event) => wanted.includes(event.channel) && (name === undefined || event.name === name),
        ),
    );
  }

  /** Waits until `select()` has at least `count` requests; returns them. Rejects after `timeoutMs`. */
  async waitFor(
    what: string,
    select: () => Received[],
    count = 1,
    timeoutMs = WAIT.atOnce,
  ): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = select();
      if (found.length >= count) return found;
      if (Date.now() >= deadline) {
        throw new Error(
          `${what}: ${found.length} of ${count} requests within ${timeoutMs} ms; received ${JSON.stringify(
            this.received.map((r) => `${r.path} ${r.rawBody}`),
          )}`,
        );
      }
      await sleep(WAIT.poll);
    }
  }
}

/** Polls `condition` until it holds; rejects after `timeoutMs`. */
async function waitUntil(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() >= deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(WAIT.poll);
  }
}

/** Whether `channel` of `appId` has no subscriber left in the stack's state table. */
async function isUnoccupied(stack: LocalStack, appId: string, channel: string): Promise<boolean> {
  const client = stackClient(stack);
  try {
    const entries = await listChannels({ client, tableName: stack.tables.state }, appId, channel, Date.now());
    return !entries.some((entry) => entry.channel === channel && entry.subscriptionCount > 0);
  } finally {
    client.destroy();
  }
}

/** The real `pusher` SDK's check, with the app's credentials (it never makes a request: the port is a dummy). */
function webhookCheck(app: App, headers: object, rawBody: string): boolean {
  const sdk = new Pusher({
    appId: app.id,
    key: app.key,
    secret: app.secret,
    host: '127.0.0.1',
    port: '1',
    useTLS: false,
  });
  return sdk.webhook({ headers, rawBody }).isValid();
}

/** Every request a webhook of `app` must be: a POST of JSON, its key, a signature the SDK accepts. */
function expectSigned(app: App, received: readonly Received[]): void {
  expect(received.length).toBeGreaterThan(0);
  for (const r of received) {
    expect(r.request.method).toBe('POST');
    expect(r.request.headers['content-type']).toBe('application/json');
    expect(r.request.headers['x-pusher-key']).toBe(app.key);
    expect(webhookCheck(app, r.request.headers, r.rawBody), `signature of ${r.rawBody}`).toBe(true);
  }
}

/** What a webhook body is: `time_ms` (a time in [from, to]) and events; one event when batching is off. */
function expectBodyShape(received: Received, from: number, to: number): void {
  const body = bodyOf(received);
  expect(Object.keys(body).sort()).toEqual(['events', 'time_ms']);
  expect(Number.isInteger(body.time_ms)).toBe(true);
  expect(body.time_ms).toBeGreaterThanOrEqual(from);
  expect(body.time_ms).toBeLessThanOrEqual(to);
}

/** Reads the stack's webhook dead-letter queue, deleting what it reads and keeping every letter seen. */
class DeadLetters {
  readonly seen: DeadLetter[] = [];
  /** Messages on the queue that are not the sender's letters (a redriven record, say), for a failure message. */
  readonly other: string[] = [];
  private client: SQSClient | undefined;

  constructor(private readonly stack: () => LocalStack) {}

  private sqs(): SQSClient {
    this.client ??= new SQSClient({
      endpoint: this.stack().sqs.endpoint,
      region: REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    return this.client;
  }

  /** One receive, waiting up to `waitSeconds` for a message. */
  async poll(waitSeconds = 1): Promise<void> {
    const queueUrl = this.stack().sqs.webhookDeadLetters;
    const { Messages = [] } = await this.sqs().send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: waitSeconds,
      }),
    );
    if (Messages.length === 0) return;
    for (const message of Messages) {
      const parsed = JSON.parse(message.Body ?? 'null') as DeadLetter | null;
      if (parsed?.type === 'dead-letter') this.seen.push(parsed);
      else this.other.push(message.Body ?? '');
    }
    await this.sqs().send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((message, index) => ({
          Id: String(index),
          ReceiptHandle: message.ReceiptHandle!,
        })),
      }),
    );
  }

  /** The letters of `appId` read so far. */
  of(appId: string): DeadLetter[] {
    return this.seen.filter((letter) => letter.appId === appId);
  }

  /** The first letter of `appId`, polling the queue for up to `timeoutMs`. */
  async first(appId: string, timeoutMs = WAIT.deadLetter): Promise<DeadLetter> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [letter] = this.of(appId);
      if (letter) return letter;
      if (Date.now() >= deadline) {
        throw new Error(
          `no dead letter for ${appId} within ${timeoutMs} ms; seen ${JSON.stringify(this.seen)}, other ${JSON.stringify(this.other)}`,
        );
      }
      await this.poll(1);
    }
  }

  close(): void {
    this.client?.destroy();
  }
}

/** Opens pusher-js clients of the apps, each signed by its own backend; all closed after each test. */
function clientsFor(stack: () => LocalStack) {
  const clients = new PusherJsClients();
  const backends = new Map<string, AuthServer>();
  return {
    async startBackends(apps: readonly App[]) {
      for (const app of apps) backends.set(app.id, await startAuthServer(app));
    },
    async closeBackends() {
      for (const backend of backends.values()) await backend.close();
    },
    disconnectAll: () => clients.disconnectAll(),
    async connected(app: App, userId?: string): Promise<PusherJsClient> {
      const client = clients.connect({
        key: app.key,
        port: stack().port,
        auth: backends.get(app.id),
        ...(userId !== undefined && { authParams: { user_id: userId } }),
      });
      await client.connected();
      return client;
    },
  };
}

const occupancyTypes: Webhook['eventTypes'] = ['channel_occupied', 'channel_vacated'];
const occupied = (channel: string): WebhookEvent => ({ name: 'channel_occupied', channel });
const vacated = (channel: string): WebhookEvent => ({ name: 'channel_vacated', channel });

describe('webhooks from the local stack, batching off, the default retry budget', () => {
  const local = useLocalStack('webhooks');
  const stack = () => local.stack;
  const clients = clientsFor(stack);
  const deadLetters = new DeadLetters(stack);

  const OCCUPANCY = testApp('wh-occupancy');
  const PRESENCE = testApp('wh-presence');
  const CLIENT_EVENTS = testApp('wh-client-events', { enableClientMessages: true });
  const FIRST = testApp('wh-first');
  const SECOND = testApp('wh-second');
  const RETRIED = testApp('wh-retried');
  const REFUSED = testApp('wh-refused');
  const LAMBDA = testApp('wh-lambda');

  const receiver = new Receiver();
  /** 500 three times, then 200. */
  const flaky = new Receiver((index) => (index < 3 ? { status: 500, body: 'busy' } : OK));
  const refusing = new Receiver(() => ({ status: 400, body: 'no' }));
  /** Stands in for Lambda's Invoke API at the webhook's `client_options.endpoint`. */
  const lambdaApi = new Receiver();

  beforeAll(async () => {
    for (const r of [receiver, flaky, refusing, lambdaApi]) await r.start();
    const hook = (url: string, eventTypes: Webhook['eventTypes']): Webhook[] => [{ url, eventTypes }];
    const lambdaHook = (name: string, async: boolean): Webhook => ({
      lambdaFunction: name,
      lambda: { async, region: REGION, clientOptions: { endpoint: lambdaApi.origin } },
      eventTypes: ['channel_occupied'],
    });
    await seedApps(stack(), [
      { ...OCCUPANCY, webhooks: hook(receiver.url('/occupancy'), occupancyTypes) },
      { ...PRESENCE, webhooks: hook(receiver.url('/presence'), ['member_added', 'member_removed']) },
      { ...CLIENT_EVENTS, webhooks: hook(receiver.url('/client-events'), ['client_event']) },
      { ...FIRST, webhooks: hook(receiver.url('/first'), ['channel_occupied']) },
      { ...SECOND, webhooks: hook(receiver.url('/second'), ['channel_occupied']) },
      { ...RETRIED, webhooks: hook(flaky.url('/retried'), ['channel_occupied']) },
      { ...REFUSED, webhooks: hook(refusing.url('/refused'), ['channel_occupied']) },
      { ...LAMBDA, webhooks: [lambdaHook('wh-async-fn', true), lambdaHook('wh-sync-fn', false)] },
    ]);
    await clients.startBackends([OCCUPANCY, PRESENCE, CLIENT_EVENTS]);
  });
  afterAll(async () => {
    await clients.closeBackends();
    for (const r of [receiver, flaky, refusing, lambdaApi]) await r.close();
    deadLetters.close();
  });
  afterEach(() => clients.disconnectAll());

  it('sends channel_occupied for the first subscriber and channel_vacated 3 s after the last left, on public and private channels', async () => {
    const channels = [`wh-public-${RUN}`, `private-wh-private-${RUN}`];
    const first = await clients.connected(OCCUPANCY);
    const second = await clients.connected(OCCUPANCY);
    const subscribedFrom = Date.now();
    for (const channel of channels) await first.subscribe(channel);
    const subscribedTo = Date.now();
    const arrivals = await Promise.all(
      channels.map((channel) =>
        receiver.waitFor(`occupied ${channel}`, () => receiver.on('/occupancy', channel)),
      ),
    );
    // A second subscriber is no occupancy change.
    for (const channel of channels) await second.subscribe(channel);
    first.disconnect();
    await sleep(WAIT.quiet);
    second.disconnect();
    const leftAt = Date.now();
    await Promise.all(
      channels.map((channel) =>
        receiver.waitFor(
          `vacated ${channel}`,
          () => receiver.on('/occupancy', channel, 'channel_vacated'),
          1,
          WAIT.departure,
        ),
      ),
    );
    await sleep(WAIT.quiet);

    channels.forEach((channel, index) => {
      const all = receiver.on('/occupancy', channel);
      expectSigned(OCCUPANCY, all);
      expect(all.map((r) => bodyOf(r).events)).toEqual([[occupied(channel)], [vacated(channel)]]);
      const [occupiedAt, vacatedAt] = all as [Received, Received];
      expect(occupiedAt).toBe(arrivals[index]![0]);
      expectBodyShape(occupiedAt, subscribedFrom, subscribedTo);
      expectBodyShape(vacatedAt, leftAt, leftAt + 2_000);
      expect(vacatedAt.at - leftAt).toBeGreaterThanOrEqual(WAIT.departureDelay - WAIT.timerSlack);
    });
  }, 40_000);

  it("sends member_added on a user's first tab and member_removed once, 3 s after the last tab closed", async () => {
    const channel = `presence-wh-tabs-${RUN}`;
    const tabs: PusherJsClient[] = [];
    const openedFrom = Date.now();
    tabs.push(await clients.connected(PRESENCE, 'carol'));
    await tabs[0]!.subscribePresence(channel);
    const [added] = await receiver.waitFor('member_added', () => receiver.on('/presence', channel));
    const addedBy = Date.now();
    for (let n = 1; n < 3; n++) {
      const tab = await clients.connected(PRESENCE, 'carol');
      await tab.subscribePresence(channel);
      tabs.push(tab);
    }
    // Another user's join is a member_added of its own, and keeps the channel occupied throughout.
    const dave = await clients.connected(PRESENCE, 'dave');
    await dave.subscribePresence(channel);
    await receiver.waitFor('member_added dave', () =>
      receiver.on('/presence', channel).filter((r) => JSON.stringify(bodyOf(r)).includes('"dave"')),
    );
    tabs[0]!.disconnect();
    tabs[1]!.disconnect();
    await sleep(WAIT.quiet);
    tabs[2]!.disconnect();
    const lastClosedAt = Date.now();
    const [removed] = await receiver.waitFor(
      'member_removed',
      () => receiver.on('/presence', channel, 'member_removed'),
      1,
      WAIT.departure,
    );
    await sleep(WAIT.quiet);

    const all = receiver.on('/presence', channel);
    expectSigned(PRESENCE, all);
    expect(all.map((r) => bodyOf(r).events)).toEqual([
      [{ name: 'member_added', channel, user_id: 'carol' }],
      [{ name: 'member_added', channel, user_id: 'dave' }],
      [{ name: 'member_removed', channel, user_id: 'carol' }],
    ]);
    expectBodyShape(added!, openedFrom, addedBy);
    // The last tab's departure, not an earlier one's: sent the departure delay after it closed.
    expect(removed!.at - lastClosedAt).toBeGreaterThanOrEqual(WAIT.departureDelay - WAIT.timerSlack);
    expectBodyShape(removed!, lastClosedAt, lastClosedAt + 2_000);
  }, 40_000);

  it('sends client_event from a private channel without user_id, and from a presence channel with it', async () => {
    const privateChannel = `private-wh-chat-${RUN}`;
    const presenceChannel = `presence-wh-room-${RUN}`;
    const alice = await clients.connected(CLIENT_EVENTS, 'alice');
    const bob = await clients.connected(CLIENT_EVENTS, 'bob');
    const onPrivate = await alice.subscribe(privateChannel);
    const onPresence = await alice.subscribePresence(presenceChannel);
    await bob.subscribe(privateChannel);
    await bob.subscribePresence(presenceChannel);

    const sentFrom = Date.now();
    expect(onPrivate.trigger('client-typing', { text: 'hi bob', n: 1 })).toBe(true);
    expect(onPresence.trigger('client-move', 'a string, as sent')).toBe(true);
    const [fromPrivate] = await receiver.waitFor('private client_event', () =>
      receiver.on('/client-events', privateChannel),
    );
    const [fromPresence] = await receiver.waitFor('presence client_event', () =>
      receiver.on('/client-events', presenceChannel),
    );
    const sentBy = Date.now();
    await sleep(WAIT.quiet);

    const all = [
      ...receiver.on('/client-events', privateChannel),
      ...receiver.on('/client-events', presenceChannel),
    ];
    expect(all).toEqual([fromPrivate, fromPresence]);
    expectSigned(CLIENT_EVENTS, all);
    expect(bodyOf(fromPrivate!).events).toEqual([
      {
        name: 'client_event',
        channel: privateChannel,
        event: 'client-typing',
        data: '{"text":"hi bob","n":1}',
        socket_id: alice.socketId,
      },
    ]);
    expect(bodyOf(fromPresence!).events).toEqual([
      {
        name: 'client_event',
        channel: presenceChannel,
        event: 'client-move',
        data: 'a string, as sent',
        socket_id: alice.socketId,
        user_id: 'alice',
      },
    ]);
    for (const r of all) expectBodyShape(r, sentFrom, sentBy);
  }, 30_000);

  it('sends one event per body with batching off, even for events one operation raised together', async () => {
    const channels = [1, 2, 3].map((n) => `wh-single-${n}-${RUN}`);
    const client = await clients.connected(OCCUPANCY);
    for (const channel of channels) await client.subscribe(channel);
    await Promise.all(
      channels.map((channel) =>
        receiver.waitFor(`occupied ${channel}`, () => receiver.on('/occupancy', channel)),
      ),
    );
    // One $disconnect leaves all three channels: one queue message with three channel_vacated.
    client.disconnect();
    const vacatedBodies = await receiver.waitFor(
      'three vacated',
      () => receiver.on('/occupancy', channels, 'channel_vacated'),
      3,
      WAIT.departure,
    );
    await sleep(WAIT.quiet);

    const all = receiver.on('/occupancy', channels);
    expect(all).toHaveLength(6);
    expectSigned(OCCUPANCY, all);
    for (const r of all) expect(bodyOf(r).events).toHaveLength(1);
    expect(eventsOf(vacatedBodies)).toEqual(expect.arrayContaining(channels.map(vacated)));
    // They were raised together: the same time_ms, yet three bodies.
    expect(new Set(vacatedBodies.map((r) => bodyOf(r).time_ms)).size).toBe(1);
  }, 30_000);

  it('signs the webhooks of two apps each with its own secret', async () => {
    const channel = `wh-shared-name-${RUN}`;
    const first = await clients.connected(FIRST);
    const second = await clients.connected(SECOND);
    await first.subscribe(channel);
    await second.subscribe(channel);
    const [toFirst] = await receiver.waitFor('first app', () => receiver.on('/first', channel));
    const [toSecond] = await receiver.waitFor('second app', () => receiver.on('/second', channel));
    await sleep(WAIT.quiet);

    expect(receiver.on('/first', channel)).toHaveLength(1);
    expect(receiver.on('/second', channel)).toHaveLength(1);
    expectSigned(FIRST, [toFirst!]);
    expectSigned(SECOND, [toSecond!]);
    expect(bodyOf(toFirst!).events).toEqual([occupied(channel)]);
    expect(bodyOf(toSecond!).events).toEqual([occupied(channel)]);
    // Neither passes the other app's check: not its key, and not its secret either.
    expect(webhookCheck(SECOND, toFirst!.request.headers, toFirst!.rawBody)).toBe(false);
    expect(webhookCheck(FIRST, toSecond!.request.headers, toSecond!.rawBody)).toBe(false);
    const withOtherKey = (r: Received, app: App) => ({ ...r.request.headers, 'x-pusher-key': app.key });
    expect(webhookCheck(SECOND, withOtherKey(toFirst!, SECOND), toFirst!.rawBody)).toBe(false);
    expect(webhookCheck(FIRST, withOtherKey(toSecond!, FIRST), toSecond!.rawBody)).toBe(false);
  }, 30_000);

  it('sends nothing for a channel vacated and occupied again within 3 s; after 4 s, vacated then occupied', async () => {
    const channel = `wh-flap-${RUN}`;
    const onChannel = () => receiver.on('/occupancy', channel);
    const first = await clients.connected(OCCUPANCY);
    const second = await clients.connected(OCCUPANCY);
    await first.subscribe(channel);
    await receiver.waitFor('the first occupied', onChannel);

    // Back within a second: inside the departure delay. The channel is really empty in between.
    first.disconnect();
    const firstLeftAt = Date.now();
    await waitUntil('the first subscriber gone', () => isUnoccupied(stack(), OCCUPANCY.id, channel), 1_000);
    await second.subscribe(channel);
    expect(Date.now() - firstLeftAt).toBeLessThan(1_500);
    await sleep(firstLeftAt + 5_000 - Date.now());
    expect(onChannel().map((r) => bodyOf(r).events)).toEqual([[occupied(channel)]]);

    // Back after 4 s: the vacate was sent (it is waited for, so the reoccupy is surely after it).
    second.disconnect();
    const secondLeftAt = Date.now();
    await receiver.waitFor(
      'vacated',
      () => receiver.on('/occupancy', channel, 'channel_vacated'),
      1,
      WAIT.departure,
    );
    await sleep(secondLeftAt + 4_000 - Date.now());
    const third = await clients.connected(OCCUPANCY);
    const backAt = Date.now();
    await third.subscribe(channel);
    await receiver.waitFor('vacated and occupied again', onChannel, 3);
    await sleep(WAIT.quiet);

    const all = onChannel();
    expectSigned(OCCUPANCY, all);
    expect(all.map((r) => bodyOf(r).events)).toEqual([
      [occupied(channel)],
      [vacated(channel)],
      [occupied(channel)],
    ]);
    const [, vacatedBody, reoccupied] = all as [Received, Received, Received];
    expect(bodyOf(vacatedBody).time_ms).toBeLessThan(bodyOf(reoccupied).time_ms);
    expect(vacatedBody.at).toBeLessThan(reoccupied.at);
    expect(vacatedBody.at - secondLeftAt).toBeGreaterThanOrEqual(WAIT.departureDelay - WAIT.timerSlack);
    expect(bodyOf(reoccupied).time_ms).toBeGreaterThanOrEqual(backAt);
  }, 40_000);

  it('retries a receiver answering 500 three times: four requests with the same bytes and time_ms, one delivery', async () => {
    const channel = `wh-retried-${RUN}`;
    const client = await clients.connected(RETRIED);
    await client.subscribe(channel);
    // Backoff 1 s, then 2 s, then 3 to 4 s (upper half of 4), plus the event source's polling.
    const attempts = await flaky.waitFor('four attempts', () => flaky.on('/retried', channel), 4, 20_000);
    // A fifth request would be a retry of the delivered one; a dead letter would be a lost delivery.
    await Promise.all([sleep(WAIT.quiet), deadLetters.poll(1)]);

    expect(flaky.received).toEqual(attempts);
    expect(attempts).toHaveLength(4);
    expectSigned(RETRIED, attempts);
    for (const r of attempts) expect(r.request.body.equals(attempts[0]!.request.body)).toBe(true);
    expect(new Set(attempts.map((r) => bodyOf(r).time_ms)).size).toBe(1);
    expect(bodyOf(attempts[0]!).events).toEqual([occupied(channel)]);
    const gaps = attempts.slice(1).map((r, i) => r.at - attempts[i]!.at);
    expect(gaps[0]).toBeGreaterThanOrEqual(1_000 - WAIT.timerSlack);
    expect(gaps[1]).toBeGreaterThanOrEqual(1_000 - WAIT.timerSlack);
    expect(gaps[2]).toBeGreaterThanOrEqual(2_000 - WAIT.timerSlack);
    expect(deadLetters.of(RETRIED.id)).toEqual([]);
  }, 40_000);

  it('dead-letters a body its receiver answered 400 at once: one request, then a dead letter "HTTP 400"', async () => {
    const channel = `wh-refused-${RUN}`;
    const client = await clients.connected(REFUSED);
    await client.subscribe(channel);
    const [attempt] = await refusing.waitFor('the attempt', () => refusing.on('/refused', channel));
    const letter = await deadLetters.first(REFUSED.id);
    await sleep(WAIT.quiet);

    expect(refusing.received).toEqual([attempt]);
    expectSigned(REFUSED, [attempt!]);
    const body = bodyOf(attempt!);
    expect(letter).toEqual({
      v: 1,
      type: 'dead-letter',
      reason: 'HTTP 400',
      appId: REFUSED.id,
      webhook: expect.stringMatching(/^0:[0-9a-f]{16}$/),
      target: `url:${refusing.origin}`,
      timeMs: body.time_ms,
      events: [occupied(channel)],
      attempts: 1,
    });
    expect(deadLetters.of(REFUSED.id)).toHaveLength(1);
    expect(JSON.stringify(letter)).not.toContain(REFUSED.secret);
  }, 30_000);

  it("invokes a lambda_function webhook at its client_options endpoint with soketi's payload, Event when async", async () => {
    const channel = `wh-lambda-${RUN}`;
    const client = await clients.connected(LAMBDA);
    const subscribedFrom = Date.now();
    await client.subscribe(channel);
    const invocations = await lambdaApi.waitFor('two invocations', () => lambdaApi.received, 2);
    const subscribedBy = Date.now();
    await sleep(WAIT.quiet);

    expect(lambdaApi.received).toHaveLength(2);
    const byPath = (name: string) => {
      const found = invocations.filter((r) => r.path === `/2015-03-31/functions/${name}/invocations`);
      expect(found, `invocations of ${name}`).toHaveLength(1);
      return found[0]!;
    };
    const invocationTypes = {
      'wh-async-fn': 'Event',
      'wh-sync-fn': 'RequestResponse',
    };
    for (const [name, invocationType] of Object.entries(invocationTypes)) {
      const invocation = byPath(name);
      expect(invocation.request.method).toBe('POST');
      expect(invocation.request.headers['x-amz-invocation-type']).toBe(invocationType);
      const { payload, headers } = invocation.json as {
        payload: Body;
        headers: Record<string, string>;
      };
      expect(Object.keys(invocation.json as object).sort()).toEqual(['headers', 'payload']);
      expect(payload).toEqual({ time_ms: expect.any(Number), events: [occupied(channel)] });
      expect(payload.time_ms).toBeGreaterThanOrEqual(subscribedFrom);
      expect(payload.time_ms).toBeLessThanOrEqual(subscribedBy);
      expect(headers).toMatchObject({
        'Content-Type': 'application/json',
        'X-Pusher-Key': LAMBDA.key,
        'X-Pusher-Signature': expect.stringMatching(/^[0-9a-f]{64}$/),
      });
      // The sender serialises with JSON.stringify, so re-serialising the parsed payload gives its bytes.
      const lowercased = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
      expect(webhookCheck(LAMBDA, lowercased, JSON.stringify(payload))).toBe(true);
    }
  }, 30_000);
});

describe('webhooks from the local stack, batching on, a 2 s retry budget', () => {
  const local = useLocalStack('webhooks-batching', [], {
    env: { ...process.env, WEBHOOKS_BATCHING: 'true', WEBHOOKS_RETRY_BUDGET_SECONDS: '2' },
  });
  const stack = () => local.stack;
  const clients = clientsFor(stack);
  const deadLetters = new DeadLetters(stack);

  const BATCHED = testApp('wh-batched');
  const EXHAUSTED = testApp('wh-exhausted');
  const receiver = new Receiver();
  const failing = new Receiver(() => ({ status: 500, body: 'down' }));

  beforeAll(async () => {
    await receiver.start();
    await failing.start();
    await seedApps(stack(), [
      {
        ...BATCHED,
        webhooks: [
          { url: receiver.url('/all'), eventTypes: occupancyTypes },
          {
            url: receiver.url('/filtered'),
            eventTypes: occupancyTypes,
            filter: { channelNameStartsWith: 'private-', channelNameEndsWith: '-kept' },
          },
        ],
      },
      { ...EXHAUSTED, webhooks: [{ url: failing.url('/exhausted'), eventTypes: ['channel_occupied'] }] },
    ]);
    await clients.startBackends([BATCHED]);
  });
  afterAll(async () => {
    await clients.closeBackends();
    await receiver.close();
    await failing.close();
    deadLetters.close();
  });
  afterEach(() => clients.disconnectAll());

  it("splits one batch by each webhook's filter: each gets one body with its own events, signed", async () => {
    const kept = `private-wh-split-${RUN}-kept`;
    const channels = [kept, `private-wh-split-${RUN}-other`, `wh-split-${RUN}-kept`];
    const client = await clients.connected(BATCHED);
    for (const channel of channels) await client.subscribe(channel);
    const onAll = (name?: WebhookEvent['name']) => receiver.on('/all', channels, name);
    // However the event source batched the three subscribes, three occupied events in all.
    await waitUntil(
      'occupied on all three',
      () => eventsOf(onAll('channel_occupied')).length >= 3,
      WAIT.atOnce,
    );
    await receiver.waitFor('occupied of the kept channel', () => receiver.on('/filtered', kept));
    // One $disconnect: one queue message with three channel_vacated, one batch for the sender.
    client.disconnect();
    const [allVacated] = await receiver.waitFor('vacated', () => onAll('channel_vacated'), 1, WAIT.departure);
    const [filteredVacated] = await receiver.waitFor(
      'vacated of the kept channel',
      () => receiver.on('/filtered', kept, 'channel_vacated'),
      1,
      WAIT.departure,
    );
    await sleep(WAIT.quiet);

    expectSigned(BATCHED, receiver.received);
    expect(eventsOf(onAll('channel_occupied')).sort(byChannel)).toEqual(
      channels.map(occupied).sort(byChannel),
    );
    expect(onAll('channel_vacated')).toEqual([allVacated]);
    expect([...bodyOf(allVacated!).events].sort(byChannel)).toEqual(channels.map(vacated).sort(byChannel));
    expect(receiver.received.filter((r) => r.path === '/filtered').map((r) => bodyOf(r).events)).toEqual([
      [occupied(kept)],
      [vacated(kept)],
    ]);
    // Both bodies of the one batch, stamped alike.
    expect(bodyOf(filteredVacated!).time_ms).toBe(bodyOf(allVacated!).time_ms);
  }, 40_000);

  it('dead-letters a body whose 2 s retry budget ran out against a receiver that always answers 500', async () => {
    const channel = `wh-exhausted-${RUN}`;
    const client = await clients.connected(EXHAUSTED);
    await client.subscribe(channel);
    await failing.waitFor('the first attempt', () => failing.on('/exhausted', channel));
    const letter = await deadLetters.first(EXHAUSTED.id);
    await sleep(WAIT.quiet);

    const attempts = failing.received;
    expectSigned(EXHAUSTED, attempts);
    for (const r of attempts) expect(r.request.body.equals(attempts[0]!.request.body)).toBe(true);
    const body = bodyOf(attempts[0]!);
    expect(body.events).toEqual([occupied(channel)]);
    expect(letter.reason).toMatch(/^retry budget exhausted after \d+ attempts \(last: HTTP 500\)$/);
    expect(letter.reason).toContain(`after ${attempts.length} attempts`);
    expect(letter).toMatchObject({
      v: 1,
      type: 'dead-letter',
      appId: EXHAUSTED.id,
      target: `url:${failing.origin}`,
      timeMs: body.time_ms,
      events: [occupied(channel)],
      attempts: attempts.length,
    });
    // No attempt past the budget.
    for (const r of attempts) expect(r.at).toBeLessThanOrEqual(body.time_ms + 2_000 + 1_000);
    expect(deadLetters.of(EXHAUSTED.id)).toHaveLength(1);
  }, 30_000);
});

function byChannel(a: WebhookEvent, b: WebhookEvent): number {
  return a.channel.localeCompare(b.channel) || a.name.localeCompare(b.name);
}
