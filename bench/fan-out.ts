// Fan-out at scale, with no AWS: the publishing route's fan-out (`fanOut`) and the worker's jobs
// (`runFanOutJob`, handed over through the same `FanOutDispatcher` interface, run asynchronously in this
// process) against an embedded dynalite seeded with N subscribers, posting to a simulated `@connections`
// endpoint on loopback that answers each post after a set latency, answers a share 410 Gone and refuses a frame
// over 128,000 bytes, as API Gateway does. Next to it, in the same run, the ideal on this machine: a bare SDK
// loop posting the same N frames to the same endpoint with as many posts in flight as the fan-out reached.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { forEachLimited } from '../src/gateway/concurrency.js';
import type { GatewayContext } from '../src/gateway/context.js';
import { connectionsApi } from '../src/gateway/management-api.js';
import type { StructuredLogger } from '../src/observability/logger.js';
import { MAX_FRAME_BYTES } from '../src/protocol/frames.js';
import { FAN_OUT_DEFAULTS, fanOut } from '../src/publish/fan-out.js';
import type { FanOutDispatcher, FanOutJob, NotDispatched } from '../src/publish/fan-out-job.js';
import { messageGroupOf } from '../src/publish/fan-out-queue.js';
import { runFanOutJob } from '../src/publish/fan-out-worker.js';
import { putSubscriber } from '../src/state/channels.js';
import { stateTableDefinition } from '../src/state/table-schema.js';
import { startDynamoDbProxy } from '../test/support/aws-json-proxy.js';
import { type Benchmark, type BenchReport, setEnvironment } from './support.js';

const SIZES = [10, 1_000, 10_000] as const;
const ORDER_CHANNEL = 'order';
const ORDER_SUBSCRIBERS = 2_000;
const LATENCY_MS = Number(process.env.FAN_OUT_BENCH_LATENCY_MS ?? 15);
/** Every this-many-th connection answers 410 Gone (0: none). */
const GONE_EVERY = Number(process.env.FAN_OUT_BENCH_GONE_EVERY ?? 0);
const APP = 'bench-app';
const REGION = 'us-east-1';
const WORKER_REMAINING_MS = 60_000;
/** The most a worker job waits to start, as an invocation waits for a Lambda. */
const START_JITTER_MS = 50;
/** Publishes per size; the median of each figure is reported. */
const ROUNDS = 3;
/**
 * A connection id as API Gateway's look (base64, so spread over the lanes), ending in its index (after a `-`,
 * which base64 never holds), which the simulated endpoint's share of 410s is decided by.
 */
const connectionId = (index: number) => `${randomBytes(9).toString('base64')}-${index}`;
const SILENT: StructuredLogger = { info: () => {}, warn: () => {}, error: () => {} };

/** The simulated `@connections` endpoint: latency, 410s, the frame limit, and when each post arrived. */
class SimulatedConnections {
  private readonly server: Server;
  posts = 0;
  inFlight = 0;
  maxInFlight = 0;
  lastArrivalMs = 0;
  refusedTooLarge = 0;
  /** While set, the events each connection received, in the order they arrived. */
  arrivals: Map<string, string[]> | undefined;

  constructor() {
    this.server = createServer((request, response) => {
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      void body(request).then((bytes) => {
        setTimeout(
          () => {
            this.inFlight--;
            this.posts++;
            this.lastArrivalMs = performance.now();
            const id = decodeURIComponent(/\/@connections\/([^/?]+)/.exec(request.url ?? '')?.[1] ?? '');
            if (this.arrivals !== undefined) {
              const events = this.arrivals.get(id) ?? [];
              events.push((JSON.parse(bytes.toString('utf8')) as { event: string }).event);
              this.arrivals.set(id, events);
            }
            if (bytes.length > MAX_FRAME_BYTES) {
              this.refusedTooLarge++;
              response.writeHead(413, { 'x-amzn-errortype': 'PayloadTooLargeException' }).end('{}');
            } else if (GONE_EVERY > 0 && Number(id.split('-')[1]) % GONE_EVERY === 0) {
              response.writeHead(410, { 'x-amzn-errortype': 'GoneException' }).end('{"message":"Gone"}');
            } else {
              response.writeHead(200).end();
            }
            // Each post takes its own time, as on AWS: posts made in one order may answer in another.
          },
          LATENCY_MS * (0.5 + Math.random()),
        );
      });
    });
  }

  async start(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  reset(): void {
    this.posts = 0;
    this.maxInFlight = 0;
    this.lastArrivalMs = 0;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function body(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The worker behind the dispatcher interface, as the deployed queue runs it: each lane a FIFO message group
 * (its jobs one after another, in the order dispatched), lanes and cleanups side by side. On AWS a job runs on
 * another Lambda's CPU; here it would share the route's one event loop and slow the route's answer, so jobs
 * the route dispatches start once it has answered (`release`): the last post is measured late, if anything,
 * never early.
 */
class InProcessWorker implements FanOutDispatcher {
  private readonly running = new Set<Promise<unknown>>();
  private readonly groups = new Map<string, Promise<unknown>>();
  private gate: Promise<void> = Promise.resolve();
  private open: () => void = () => {};
  invocations = 0;
  context: GatewayContext | undefined;

  hold(): void {
    this.gate = new Promise((resolve) => {
      this.open = resolve;
    });
  }

  release(): void {
    this.open();
  }

  async dispatch(jobs: readonly FanOutJob[]): Promise<readonly NotDispatched[]> {
    const context = this.context!;
    for (const job of jobs) {
      this.invocations++;
      const group = messageGroupOf(job);
      const after = this.groups.get(group) ?? this.gate;
      const run: Promise<unknown> = after
        // Lambda starts each invocation after a wait of its own.
        .then(() => sleep(Math.random() * START_JITTER_MS))
        .then(() => runFanOutJob(context, job, { remainingMs: WORKER_REMAINING_MS }))
        .finally(() => {
          this.running.delete(run);
          if (this.groups.get(group) === run) this.groups.delete(group);
        });
      this.groups.set(group, run);
      this.running.add(run);
    }
    return [];
  }

  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}

interface Row {
  readonly subscribers: number;
  readonly answerMs: number;
  readonly lastPostMs: number;
  readonly posts: number;
  readonly cpuUsPerPost: number;
  readonly queries: number;
  readonly invocations: number;
  readonly maxInFlight: number;
}

export const fanOutBenchmark: Benchmark = {
  name: 'fan-out',
  async run(): Promise<BenchReport> {
    const database = dynalite({ createTableMs: 0 });
    await new Promise<void>((resolve) => database.listen(0, '127.0.0.1', () => resolve()));
    const dynamoEndpoint = `http://127.0.0.1:${(database.address() as AddressInfo).port}`;
    const proxy = await startDynamoDbProxy(dynamoEndpoint);
    const simulated = new SimulatedConnections();
    const endpoint = await simulated.start();
    const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };
    const client = new DynamoDBClient({ endpoint: proxy.endpoint, region: REGION, credentials });
    // The `@connections` client finds its credentials as a Lambda's does: in the environment.
    const restoreEnvironment = setEnvironment({
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      POWERTOOLS_METRICS_NAMESPACE: 'bench',
    });
    try {
      const tableName = 'fan-out-bench-state';
      await client.send(new CreateTableCommand(stateTableDefinition(tableName)));
      const state = { client, tableName };
      const worker = new InProcessWorker();
      const context: GatewayContext = {
        state,
        connections: connectionsApi(endpoint, REGION),
        logger: SILENT,
        now: () => Date.now(),
      };
      // Each worker job is a Lambda of its own, with its own sockets: not the route's client (its cache key
      // is the region, which the simulated endpoint never checks).
      worker.context = { ...context, connections: connectionsApi(endpoint, 'us-west-2') };
      const seededAt = performance.now();
      const seed = (channel: string, size: number) =>
        forEachLimited(
          Array.from({ length: size }, (_, i) => i),
          50,
          (i) => putSubscriber(state, APP, channel, connectionId(i), undefined, Date.now()),
        );
      for (const size of SIZES) await seed(`channel-${size}`, size);
      await seed(ORDER_CHANNEL, ORDER_SUBSCRIBERS);
      const seedSeconds = (performance.now() - seededAt) / 1000;
      const options = { ...FAN_OUT_DEFAULTS, dispatcher: worker };
      const frame = (size: number) => ({ event: 'bench', channel: `channel-${size}`, data: '{"price":42}' });
      // Warm the clients and the code paths.
      await fanOut(context, APP, 'channel-10', frame(10), undefined, options);
      await worker.settled();

      const rows: Row[] = [];
      for (const size of SIZES) {
        const runs: Row[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          simulated.reset();
          proxy.resetCounts();
          worker.invocations = 0;
          const cpu = process.cpuUsage();
          const startedAt = performance.now();
          worker.hold();
          await fanOut(context, APP, `channel-${size}`, frame(size), undefined, options);
          const answerMs = performance.now() - startedAt;
          worker.release();
          await worker.settled();
          const used = process.cpuUsage(cpu);
          runs.push({
            subscribers: size,
            answerMs,
            lastPostMs: simulated.lastArrivalMs - startedAt,
            posts: simulated.posts,
            cpuUsPerPost: (used.user + used.system) / Math.max(1, simulated.posts),
            queries: proxy.count('Query'),
            invocations: worker.invocations,
            maxInFlight: simulated.maxInFlight,
          });
        }
        rows.push(medianRow(runs));
      }
      // Two publishes, the second once the first was answered: the order every subscriber gets them in.
      simulated.arrivals = new Map();
      for (const event of ['first', 'second']) {
        worker.hold();
        await fanOut(
          context,
          APP,
          ORDER_CHANNEL,
          { event, channel: ORDER_CHANNEL, data: '{}' },
          undefined,
          options,
        );
        worker.release();
      }
      await worker.settled();
      const received = [...simulated.arrivals.values()];
      simulated.arrivals = undefined;
      const outOfOrder = received.filter((events) => events.join() === 'second,first').length;
      const notExactlyOnce = ORDER_SUBSCRIBERS - received.filter((events) => events.length === 2).length;
      console.log(
        `order: 2 publishes to ${ORDER_SUBSCRIBERS} subscribers in ${options.lanes.length} lanes: ` +
          `${outOfOrder} out of order, ${notExactlyOnce} not given both once`,
      );
      const largest = rows.at(-1)!;
      const baseline = await bareSdkLoop(endpoint, largest.subscribers, largest.maxInFlight, simulated);
      printTable(rows, baseline, seedSeconds);
      const medians = new Map<string, number>([
        ...rows.map(
          (row) => [`publish answered, ${row.subscribers} subscribers`, row.answerMs * 1e6] as const,
        ),
        [`last post, ${largest.subscribers} subscribers`, largest.lastPostMs * 1e6],
        [`bare SDK loop, ${largest.subscribers} posts`, baseline.lastPostMs * 1e6],
      ]);
      return {
        title: `Fan-out (simulated @connections at ${LATENCY_MS} ms a post, dynalite): times per publish`,
        medians,
        targets: [
          {
            label: `answer with ${largest.subscribers} subscribers vs with ${rows[0]!.subscribers}`,
            ratio: largest.answerMs / rows[0]!.answerMs,
            max: 1.5,
          },
          {
            label: `last post with ${largest.subscribers} subscribers vs the bare SDK loop`,
            ratio: largest.lastPostMs / baseline.lastPostMs,
            max: 1.5,
          },
        ],
        counts: [
          { label: 'frames refused as over 128,000 bytes', value: simulated.refusedTooLarge, max: 0 },
          {
            label: `subscribers of ${ORDER_SUBSCRIBERS} given 2 events out of order`,
            value: outOfOrder,
            max: 0,
          },
          {
            label: `subscribers of ${ORDER_SUBSCRIBERS} not given each event once`,
            value: notExactlyOnce,
            max: 0,
          },
        ],
      };
    } finally {
      restoreEnvironment();
      client.destroy();
      await simulated.close();
      await proxy.close();
      await new Promise<void>((resolve) => database.close(() => resolve()));
    }
  },
};

function medianRow(runs: readonly Row[]): Row {
  const middle = (pick: (row: Row) => number) => [...runs].map(pick).sort((a, b) => a - b)[runs.length >> 1]!;
  return {
    subscribers: runs[0]!.subscribers,
    answerMs: middle((row) => row.answerMs),
    lastPostMs: middle((row) => row.lastPostMs),
    posts: middle((row) => row.posts),
    cpuUsPerPost: middle((row) => row.cpuUsPerPost),
    queries: middle((row) => row.queries),
    invocations: middle((row) => row.invocations),
    maxInFlight: middle((row) => row.maxInFlight),
  };
}

/** The ideal on this machine: the same posts from one SDK client, as many in flight as the fan-out had. */
async function bareSdkLoop(
  endpoint: string,
  posts: number,
  inFlight: number,
  simulated: SimulatedConnections,
): Promise<{ readonly lastPostMs: number; readonly cpuUsPerPost: number }> {
  const client = new ApiGatewayManagementApiClient({
    endpoint,
    region: REGION,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  const data = Buffer.from(JSON.stringify({ event: 'bench', channel: 'bare', data: '{"price":42}' }));
  // Warm the client, as the fan-out's was.
  await client.send(new PostToConnectionCommand({ ConnectionId: connectionId(0), Data: data }));
  simulated.reset();
  const cpu = process.cpuUsage();
  const startedAt = performance.now();
  await forEachLimited(
    Array.from({ length: posts }, (_, i) => i),
    Math.max(1, inFlight),
    (i) =>
      client
        .send(new PostToConnectionCommand({ ConnectionId: connectionId(i), Data: data }))
        .then(() => undefined),
  );
  const used = process.cpuUsage(cpu);
  client.destroy();
  return { lastPostMs: simulated.lastArrivalMs - startedAt, cpuUsPerPost: (used.user + used.system) / posts };
}

function printTable(
  rows: readonly Row[],
  baseline: { lastPostMs: number; cpuUsPerPost: number },
  seedS: number,
) {
  console.log(
    `\nFan-out: seeded ${[...SIZES, ORDER_SUBSCRIBERS].join(', ')} subscribers in ${seedS.toFixed(1)} s`,
  );
  console.log(
    'subscribers  answer ms  last post ms  posts/s  CPU µs/post  Query calls  worker jobs  posts in flight (max)',
  );
  for (const row of rows) {
    const perSecond = row.posts / (row.lastPostMs / 1000);
    console.log(
      [
        String(row.subscribers).padStart(11),
        row.answerMs.toFixed(1).padStart(9),
        row.lastPostMs.toFixed(1).padStart(12),
        perSecond.toFixed(0).padStart(7),
        row.cpuUsPerPost.toFixed(0).padStart(11),
        String(row.queries).padStart(11),
        String(row.invocations).padStart(11),
        String(row.maxInFlight).padStart(22),
      ].join('  '),
    );
  }
  const largest = rows.at(-1)!;
  console.log(
    `bare SDK loop: ${largest.subscribers} posts, ${largest.maxInFlight} in flight: last post ${baseline.lastPostMs.toFixed(1)} ms, ` +
      `CPU ${baseline.cpuUsPerPost.toFixed(0)} µs/post`,
  );
  console.log(
    '\nCost per million events, us-east-1 list prices, from the counts above (docs/operations.md#cost)',
  );
  console.log(
    'subscribers  read units  Lambda GB-s  Lambda calls  SQS calls   messages $  Lambda $  DynamoDB $  SQS $  HTTP API $     total $',
  );
  for (const row of rows) {
    const cost = costPerMillion(row);
    console.log(
      [
        String(row.subscribers).padStart(11),
        cost.readUnits.toFixed(0).padStart(10),
        cost.gbSeconds.toFixed(3).padStart(11),
        String(cost.lambdaCalls).padStart(12),
        String(cost.sqsCalls).padStart(9),
        cost.messages.toFixed(0).padStart(12),
        cost.lambda.toFixed(2).padStart(8),
        cost.dynamodb.toFixed(2).padStart(10),
        cost.sqs.toFixed(2).padStart(5),
        cost.httpApi.toFixed(2).padStart(10),
        cost.total.toFixed(0).padStart(11),
      ].join('  '),
    );
  }
}

/** us-east-1 list prices, per unit. */
const PRICE = {
  lambdaGbSecond: 0.0000133334, // arm64
  lambdaRequest: 0.2e-6,
  readUnit: 0.125e-6, // on-demand read request unit (4 KB strongly consistent)
  webSocketMessage: 1e-6, // per 32 KB
  httpApiRequest: 1e-6,
  sqsFifoRequest: 0.5e-6, // per 64 KB
};
/** The publishing route's memory (serverless.yml); Lambda gives one vCPU per 1,769 MB, so a CPU-second costs that. */
const ROUTE_MEMORY_GB = 0.5;
const GB_SECONDS_PER_CPU_SECOND = 1.769;
/** A subscriber item as stored (keys, TTL), rounded up: what a strongly consistent Query reads per item. */
const ITEM_BYTES = 100;

/**
 * One publish's bill, times a million. Lambda time is what the measured CPU costs whatever the memory (posting
 * is CPU-bound past ~15 posts in flight), never less than the route's own answer time at 512 MB; Lambda calls
 * are the route, its authorizer and the worker jobs; read units are one per Query plus the items' bytes in
 * 4 KB units; SQS calls are a SendMessageBatch per 10 jobs and a receive and a delete per job.
 */
function costPerMillion(row: Row) {
  const cpuSeconds = (row.cpuUsPerPost * row.posts) / 1e6;
  const gbSeconds = Math.max(
    (row.answerMs / 1_000) * ROUTE_MEMORY_GB,
    cpuSeconds * GB_SECONDS_PER_CPU_SECOND,
  );
  const lambdaCalls = 2 + row.invocations;
  const readUnits = row.queries + Math.ceil((row.subscribers * ITEM_BYTES) / 4_096);
  const sqsCalls = row.invocations === 0 ? 0 : Math.ceil(row.invocations / 10) + 2 * row.invocations;
  const million = 1e6;
  const messages = row.subscribers * PRICE.webSocketMessage * million;
  const lambda = (gbSeconds * PRICE.lambdaGbSecond + lambdaCalls * PRICE.lambdaRequest) * million;
  const dynamodb = readUnits * PRICE.readUnit * million;
  const sqs = sqsCalls * PRICE.sqsFifoRequest * million;
  const httpApi = PRICE.httpApiRequest * million;
  return {
    readUnits,
    gbSeconds,
    lambdaCalls,
    sqsCalls,
    messages,
    lambda,
    dynamodb,
    sqs,
    httpApi,
    total: messages + lambda + dynamodb + sqs + httpApi,
  };
}
