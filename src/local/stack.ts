import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { loadConfig } from '../config/config.js';
import { type Env, readBoolean, readNumber, readString } from '../config/env.js';
import { loadConnectionLimits } from '../gateway/config.js';
import { MAX_FRAME_BYTES, MAX_INBOUND_FRAME_BYTES } from '../protocol/frames.js';
import { isLimited } from '../state/connection-ops.js';
import { MAX_RETRY_BUDGET_SECONDS } from '../webhooks/config.js';
import { buildHandlers } from './build.js';
import { startConnectionsApi } from './connections-api.js';
import { type DemoApp, ensureTables, localClient, seedDemoApp, startDynamo } from './dynamodb.js';
import { loadViewerRequestFunction } from './edge-function.js';
import { startEventSource } from './event-source.js';
import { startFrontDoor } from './front-door.js';
import { LiveConnections } from './live-connections.js';
import { freePort } from './net.js';
import { describeExit, type OfflinePorts, startOffline } from './offline.js';
import { startSchedule } from './schedule.js';
import { createServiceDir } from './service-dir.js';
import { startSqs } from './sqs.js';

export type { DemoApp } from './dynamodb.js';

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** serverless.yml's `service`: function names are `<service>-<stage>-<key>`. */
const SERVICE = 'pusher-authorizer';

export interface LocalStackOptions {
  /** The front port; 0 picks a free one. Default 6001. */
  readonly port?: number;
  readonly host?: string;
  /** Where dynalite keeps its data; in memory when absent. Ignored with `env.APP_MANAGER_DYNAMODB_ENDPOINT`. */
  readonly persistDir?: string;
  /**
   * Read for `APP_MANAGER_DYNAMODB_ENDPOINT` / `_TABLE` / `_REGION`, `STATE_TABLE`, `DEFAULT_APP_ID`,
   * `DEFAULT_APP_KEY`, `DEFAULT_APP_SECRET` and `DEFAULT_APP_ENABLE_CLIENT_MESSAGES` (each also with the
   * `SOKETI_` prefix), and passed on to serverless offline. Default `process.env`.
   */
  readonly env?: NodeJS.ProcessEnv;
  /** 'inherit' (default) shows serverless offline's output in ours; a path appends it to that file. */
  readonly offlineOutput?: 'inherit' | string;
  readonly readyTimeoutMs?: number;
}

export interface LocalStack {
  readonly port: number;
  readonly urls: {
    /** What pusher-js connects to: `<websocket>/app/<key>?protocol=7&...`. */
    readonly websocket: string;
    /** What the server SDKs call: `<http>/apps/<appId>/...`. */
    readonly http: string;
    readonly dynamodb: string;
  };
  readonly app: DemoApp;
  readonly tables: { readonly apps: string; readonly state: string };
  /**
   * The embedded SQS: the webhook queues (the sender writes exhausted and refused bodies to the second) and the
   * fan-out queues (the worker sets aside what it cannot finish in the second).
   */
  readonly sqs: {
    readonly endpoint: string;
    readonly webhooks: string;
    readonly webhookDeadLetters: string;
    readonly fanOut: string;
    readonly fanOutFailures: string;
  };
  /** The serverless offline child behind the front door: its process id and its own ports. */
  readonly offline: { readonly pid: number; readonly ports: OfflinePorts };
  /**
   * Settles if a part of the stack stops on its own (today the one child, serverless offline), saying which
   * and why; never when `stop()` ends it. The stack no longer works once it settles: stop it.
   */
  readonly failure: Promise<StackFailure>;
  stop(): Promise<void>;
}

export interface StackFailure {
  readonly part: string;
  /** How it ended, with its last lines of output. */
  readonly reason: string;
}

/** The demo app: soketi's defaults unless the environment names another. */
function demoAppFrom(env: Env): DemoApp {
  return {
    id: readString(env, 'DEFAULT_APP_ID', 'app-id'),
    key: readString(env, 'DEFAULT_APP_KEY', 'app-key'),
    secret: readString(env, 'DEFAULT_APP_SECRET', 'app-secret'),
    enableClientMessages: readBoolean(env, 'DEFAULT_APP_ENABLE_CLIENT_MESSAGES', false),
  };
}

/**
 * Starts the whole stack: DynamoDB (embedded dynalite unless an endpoint is configured) with both tables
 * and the demo app, fresh handler bundles, serverless offline running them on free ports, and the front
 * door on `port`. `stop()` ends all of it, in reverse order; so does a failure half-way.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const env = options.env ?? process.env;
  const host = options.host ?? '127.0.0.1';
  // The handlers' own configuration rules (SOKETI_ prefix, URL check) decide the tables and the endpoint.
  const config = loadConfig(env);
  const region = config.appStore.region;
  const tables = { apps: config.appStore.table, state: config.stateTable ?? 'state' };
  const app = demoAppFrom(env);
  // Emulators accept any credentials; real ones from the environment are kept for an outside endpoint.
  const credentials = {
    accessKeyId: env.AWS_ACCESS_KEY_ID || 'local',
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY || 'local',
  };
  const stops: (() => Promise<void>)[] = [];
  let stopping = false;
  const stop = async () => {
    stopping = true;
    for (const close of stops.reverse().splice(0)) await close();
  };
  try {
    const dynamo = await startDynamo({
      endpoint: config.appStore.endpoint,
      persistDir: options.persistDir,
    });
    stops.push(() => dynamo.close());
    const client = localClient(dynamo.endpoint, region, credentials);
    stops.push(async () => client.destroy());
    await ensureTables(client, tables);
    await seedDemoApp(client, tables.apps, app, config.appLimitDefaults);
    const sqs = await startSqs({ host, region, credentials });
    stops.push(() => sqs.close());
    const webhooks = localWebhookSettings(env);
    const sweep = localSweepSettings(env);
    // Read here too, so that a bad value stops `npm start` naming itself rather than failing each message.
    const limits = loadConnectionLimits(env);

    const service = await createServiceDir(PROJECT_ROOT);
    stops.push(() => service.remove());
    await buildHandlers({ rootDir: PROJECT_ROOT, outDir: join(service.dir, 'dist') });
    const ports = {
      http: await freePort(host),
      websocket: await freePort(host),
      lambda: await freePort(host),
    };
    const live = new LiveConnections();
    const connectionsApi = await startConnectionsApi({
      host,
      port: 0,
      websocket: { host, port: ports.websocket },
      maxMessageBytes: MAX_FRAME_BYTES,
      live,
    });
    stops.push(() => connectionsApi.close());
    const offline = await startOffline({
      serviceDir: service.dir,
      host,
      ports,
      params: {
        existingAppsTable: tables.apps,
        appsTableRegion: region,
        stateTable: tables.state,
        dynamodbEndpoint: dynamo.endpoint,
        websocketApiEndpoint: connectionsApi.endpoint,
        logLevel: readString(env, 'POWERTOOLS_LOG_LEVEL', 'INFO'),
        webhookQueueUrl: sqs.queues.webhooks,
        webhookDeadLetterQueueUrl: sqs.queues.webhookDeadLetters,
        fanOutQueueUrl: sqs.queues.fanOut,
        fanOutFailureQueueUrl: sqs.queues.fanOutFailures,
        webhooksBatching: String(webhooks.batching),
        webhookRetryBudgetSeconds: String(webhooks.retryBudgetSeconds),
        // A laptop's receivers are on loopback, and its functions wherever client_options.endpoint says.
        allowPrivateWebhookUrls: 'true',
        webhookLambdaFunctions: '*',
        webhookLambdaEndpoints: 'true',
        connectionSweepPeriodSeconds: String(sweep.periodSeconds),
        ghostConnectionBoundSeconds: String(sweep.boundSeconds),
        maxChannelsPerConnection: String(limits.maxChannels),
        // The stage parameters' spelling: a negative rate is unlimited.
        connectionOpsPerSecond: isLimited(limits.ops) ? String(limits.ops.perSecond) : '-1',
        connectionOpsBurst: isLimited(limits.ops) ? String(limits.ops.burst) : '1',
      },
      env: {
        ...env,
        // Only AWS_* variables reach the handlers: point every SDK client at the local emulators.
        AWS_REGION: region,
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
        AWS_ENDPOINT_URL_LAMBDA: `http://${host}:${ports.lambda}`,
        AWS_ENDPOINT_URL_SQS: sqs.endpoint,
        NODE_OPTIONS: [env.NODE_OPTIONS, '--enable-source-maps'].filter(Boolean).join(' '),
      },
      output: options.offlineOutput ?? 'inherit',
      readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
    });
    stops.push(() => offline.stop());
    const failure = new Promise<StackFailure>((resolve) => {
      void offline.exited.then((exit) => {
        if (stopping) return;
        const said = exit.lastOutput === '' ? '' : `; its last output:\n${exit.lastOutput}`;
        resolve({ part: `serverless offline (pid ${offline.pid})`, reason: `${describeExit(exit)}${said}` });
      });
    });

    const lambda = new LambdaClient({
      region,
      credentials,
      endpoint: `http://${host}:${ports.lambda}`,
      maxAttempts: 1,
    });
    stops.push(async () => lambda.destroy());
    const eventSource = startEventSource({
      sqs: sqs.client,
      queueUrl: sqs.queues.webhooks,
      queueArn: sqs.queues.webhooksArn,
      region,
      lambda,
      functionName: `${SERVICE}-local-webhookSender`,
      batchingWindowMs: webhooks.batching ? webhooks.batchingDurationMs : 0,
      onError: (error) => console.error(`webhook event source: ${(error as Error).message}`),
    });
    stops.push(() => eventSource.stop());
    // One record at a time, as deployed (`batchSize: 1`); the emulator's FIFO groups then keep their order.
    const fanOutSource = startEventSource({
      sqs: sqs.client,
      queueUrl: sqs.queues.fanOut,
      queueArn: sqs.queues.fanOutArn,
      region,
      lambda,
      functionName: `${SERVICE}-local-fanOutWorker`,
      batchingWindowMs: 0,
      batchSize: 1,
      onError: (error) => console.error(`fan-out event source: ${(error as Error).message}`),
    });
    stops.push(() => fanOutSource.stop());
    const sweeper = startSchedule({
      lambda,
      functionName: `${SERVICE}-local-connectionSweeper`,
      periodMs: sweep.periodSeconds * 1_000,
      region,
      onError: (error) => console.error(`connection sweeper: ${(error as Error).message}`),
    });
    stops.push(() => sweeper.stop());

    const front = await startFrontDoor({
      host,
      port: options.port ?? 6001,
      viewerRequest: loadViewerRequestFunction(),
      websocket: { host, port: ports.websocket },
      http: { host, port: ports.http },
      clientFrames: { frameBytes: MAX_INBOUND_FRAME_BYTES, messageBytes: MAX_FRAME_BYTES },
      live,
    });
    stops.push(() => front.close());

    return {
      port: front.port,
      urls: {
        websocket: `ws://${host}:${front.port}`,
        http: `http://${host}:${front.port}`,
        dynamodb: dynamo.endpoint,
      },
      app,
      tables,
      sqs: { endpoint: sqs.endpoint, ...sqs.queues },
      offline: { pid: offline.pid, ports },
      failure,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * soketi's `WEBHOOKS_BATCHING` and `WEBHOOKS_BATCHING_DURATION` (ms, default 50), and the retry budget
 * (`WEBHOOKS_RETRY_BUDGET_SECONDS`), read as the deployed stage's parameters would set them.
 */
function localWebhookSettings(env: Env) {
  return {
    batching: readBoolean(env, 'WEBHOOKS_BATCHING', false),
    batchingDurationMs: readNumber(env, 'WEBHOOKS_BATCHING_DURATION', 50, { min: 0, max: 300_000 }),
    retryBudgetSeconds: readNumber(env, 'WEBHOOKS_RETRY_BUDGET_SECONDS', MAX_RETRY_BUDGET_SECONDS, {
      min: 0,
      max: MAX_RETRY_BUDGET_SECONDS,
    }),
  };
}

/**
 * The sweeper's period and the ghost bound (`CONNECTION_SWEEP_PERIOD_SECONDS`, `GHOST_CONNECTION_BOUND_SECONDS`),
 * as the stage parameters would set them; locally the period may be seconds (the stack runs the schedule).
 */
function localSweepSettings(env: Env) {
  return {
    periodSeconds: readNumber(env, 'CONNECTION_SWEEP_PERIOD_SECONDS', 60, { min: 1, max: 3_600 }),
    boundSeconds: readNumber(env, 'GHOST_CONNECTION_BOUND_SECONDS', 300, { min: 3, max: 7_200 }),
  };
}

/** A log file for serverless offline outside the project tree, for tests that start the stack. */
export function offlineLogFile(name: string): string {
  return join(tmpdir(), `pusher-local-stack-${name}-${process.pid}.log`);
}
