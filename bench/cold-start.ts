// `npm run bench:cold-start`: for each handler bundle, its size and the median time a fresh Node process
// takes to load it and answer one event against an embedded dynalite, next to the same for a bundle that only
// imports the DynamoDB client. Samples are interleaved across bundles so machine load hits all alike.
// Targets, for the six Lambdas that carry little of this project's code (JUDGED): at most +20 % load+answer and
// at most +50 KB against the SDK-only bundle of the same AWS clients. The HTTP route Lambdas and `$default`
// carry the protocol by design (signatures, app lookup, limits, route code): their figures print without a
// verdict.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import Pusher from 'pusher';
import { toAppItem } from '../src/apps/parse-item.js';
import { appsTableDefinition } from '../src/apps/table-schema.js';
import { connectAuthorizerResult } from '../src/authorizers/websocket-connect.js';
import { BUNDLE_FILE, type BundleReport, buildHandlers } from '../src/local/build.js';
import { stateTableDefinition } from '../src/state/table-schema.js';
import { testApp } from '../test/fixtures/apps/items.js';
import {
  httpAuthorizerEvent,
  httpProxyEvent,
  pusherJsConnectQuery,
  wsConnectAuthorizerEvent,
  wsProxyEvent,
} from '../test/support/events.js';
import { median } from './support.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SAMPLES = Number(process.env.COLD_START_SAMPLES ?? 31);
const BASELINE = 'sdk-only';
const BASELINE_LAMBDA = 'sdk-only+lambda';
const BASELINE_CONNECTIONS = 'sdk-only+connections';
const BASELINE_CONNECTIONS_SQS = 'sdk-only+connections+sqs';
const BASELINE_LAMBDA_SQS = 'sdk-only+lambda+sqs';
const BASELINES: Record<string, string> = {
  [BASELINE]: 'bench/cold-start/sdk-only-handler.ts',
  [BASELINE_LAMBDA]: 'bench/cold-start/sdk-lambda-handler.ts',
  [BASELINE_CONNECTIONS]: 'bench/cold-start/sdk-connections-handler.ts',
  [BASELINE_CONNECTIONS_SQS]: 'bench/cold-start/sdk-connections-sqs-handler.ts',
  [BASELINE_LAMBDA_SQS]: 'bench/cold-start/sdk-lambda-sqs-handler.ts',
};

/**
 * What each handler is compared with for the targets: the SDK-only bundle with the same AWS clients, so the
 * figure is what this project adds, not what another AWS client costs. Handlers not listed use DynamoDB only.
 */
const SAME_CLIENTS_BASELINE: Record<string, string> = {
  'ws-connect': BASELINE_LAMBDA,
  // The Lambdas whose work raises webhook events also hold the SQS client, which also sends large channels'
  // lanes to the fan-out queue.
  'ws-default': BASELINE_CONNECTIONS_SQS,
  'ws-disconnect': BASELINE_CONNECTIONS_SQS,
  'ws-greeter': BASELINE_CONNECTIONS,
  // The fan-out worker sets aside what it cannot finish in the failure queue.
  'fan-out-worker': BASELINE_CONNECTIONS_SQS,
  // The HTTP API routes bundle only their route's clients: publishing posts and enqueues lanes,
  // terminate posts, the read routes (http-channels, http-channel, http-channel-users) use DynamoDB only.
  'http-events': BASELINE_CONNECTIONS_SQS,
  'http-batch-events': BASELINE_CONNECTIONS_SQS,
  'http-terminate-user-connections': BASELINE_CONNECTIONS_SQS,
  // Resolves apps, invokes Lambda targets, re-enqueues retries.
  'webhook-sender': BASELINE_LAMBDA_SQS,
};
const baselineOf = (name: string) => (name in BASELINES ? name : (SAME_CLIENTS_BASELINE[name] ?? BASELINE));
const TABLE = 'cold-start-apps';
const STATE = 'cold-start-state';
const APP = testApp('cold-start');
const MAX_ADDED_TIME = 0.2;
const MAX_ADDED_KB = 50;
/** The Lambdas with a verdict; the others print their figures only. */
const JUDGED: ReadonlySet<string> = new Set([
  'ws-connect-authorizer',
  'http-authorizer',
  'ws-connect',
  'ws-disconnect',
  'ws-greeter',
  'fan-out-worker',
]);

const CONNECTION_ID = 'Df14mfUXIAMCIyg=';
const GONE_CONNECTION_ID = 'Xk29bfQQIAMCJzh=';
const CONNECT_AUTHORIZER_EVENT = wsConnectAuthorizerEvent({ query: pusherJsConnectQuery(APP.key) });
/** What the `$connect` authorizer hands the WebSocket routes for APP (its context carries MaxConnections). */
const AUTHORIZED = {
  principalId: APP.key,
  ...connectAuthorizerResult(CONNECT_AUTHORIZER_EVENT, { allow: true, app: APP }).context,
};

/**
 * One event per handler that it answers fully, touching DynamoDB as it would in use: a signed request for a
 * known app; a connection recorded, greeted, subscribed and closed.
 */
const EVENTS: Record<string, () => unknown> = {
  [BASELINE]: () => ({ table: TABLE, id: APP.id }),
  [BASELINE_LAMBDA]: () => ({ table: TABLE, id: APP.id }),
  [BASELINE_CONNECTIONS]: () => ({ table: TABLE, id: APP.id }),
  [BASELINE_CONNECTIONS_SQS]: () => ({ table: TABLE, id: APP.id }),
  [BASELINE_LAMBDA_SQS]: () => ({ table: TABLE, id: APP.id }),
  // One queue record: a channel occupied for an app without webhooks (resolved, nothing to send).
  'webhook-sender': () => ({
    Records: [
      {
        messageId: 'cold-start',
        body: JSON.stringify({
          v: 1,
          type: 'raised',
          appId: APP.id,
          timeMs: Date.now(),
          events: [{ event: { name: 'channel_occupied', channel: 'cold-start' }, at: 1 }],
        }),
      },
    ],
  }),
  // One record of the fan-out queue: a lane of a channel, read (one strongly consistent Query) and posted to.
  'fan-out-worker': () => ({
    Records: [
      {
        messageId: 'cold-start',
        receiptHandle: 'cold-start',
        body: JSON.stringify({
          kind: 'lane',
          appId: APP.id,
          channel: 'cold-start',
          frame: { event: 'e', channel: 'cold-start', data: '{}' },
          range: { from: '' },
          pageSize: 1_000,
        }),
        attributes: { MessageGroupId: 'cold-start', ApproximateReceiveCount: '1' },
        messageAttributes: {},
        eventSource: 'aws:sqs',
      },
    ],
  }),
  'http-authorizer': () => {
    const { rawPath, rawQueryString, requestContext } = signedRoute('POST', 'events', {
      name: 'e',
      channel: 'c',
      data: '{}',
    });
    return httpAuthorizerEvent({ method: requestContext.http.method, rawPath, rawQueryString });
  },
  'ws-connect-authorizer': () => CONNECT_AUTHORIZER_EVENT,
  'ws-connect': () =>
    wsProxyEvent({ routeKey: '$connect', connectionId: CONNECTION_ID, authorizer: AUTHORIZED }),
  'ws-greeter': () => ({ connectionId: CONNECTION_ID, apiId: 'bench', stage: 'bench' }),
  'ws-default': () =>
    wsProxyEvent({
      routeKey: '$default',
      connectionId: CONNECTION_ID,
      authorizer: AUTHORIZED,
      body: JSON.stringify({ event: 'pusher:subscribe', data: { channel: 'cold-start' } }),
    }),
  'ws-disconnect': () =>
    wsProxyEvent({ routeKey: '$disconnect', connectionId: GONE_CONNECTION_ID, authorizer: AUTHORIZED }),
  'http-events': () => signedRoute('POST', 'events', { name: 'e', channel: 'cold-start', data: '{}' }),
  'http-batch-events': () =>
    signedRoute('POST', 'batch_events', { batch: [{ name: 'e', channel: 'cold-start', data: '{}' }] }),
  'http-channels': () => signedRoute('GET', 'channels'),
  'http-channel': () => signedRoute('GET', 'channels/cold-start'),
  'http-channel-users': () => signedRoute('GET', 'channels/presence-cold-start/users'),
  'http-terminate-user-connections': () =>
    signedRoute('POST', 'users/cold-start-user/terminate_connections', {}),
};

/** A request to the app's HTTP API route, signed as the pusher SDK signs it, as a payload 2.0 event. */
function signedRoute(method: 'GET' | 'POST', endpoint: string, body?: object) {
  const path = `/apps/${APP.id}/${endpoint}`;
  const text = body === undefined ? undefined : JSON.stringify(body);
  const pusher = new Pusher({ appId: APP.id, key: APP.key, secret: APP.secret, host: '127.0.0.1' });
  const rawQueryString = pusher.createSignedQueryString({
    method,
    path,
    ...(text === undefined ? {} : { body: text }),
  });
  return httpProxyEvent({
    method,
    rawPath: path,
    rawQueryString,
    ...(text === undefined ? {} : { body: text }),
  });
}

const run = promisify(execFile);

const database = dynalite({ createTableMs: 0 });
await new Promise<void>((resolve) => database.listen(0, '127.0.0.1', () => resolve()));
const endpoint = `http://127.0.0.1:${(database.address() as AddressInfo).port}`;
// Stands in for the @connections and Lambda Invoke APIs: every call succeeds.
const awsStandIn = createServer((request, response) => {
  request.resume();
  request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
});
await new Promise<void>((resolve) => awsStandIn.listen(0, '127.0.0.1', () => resolve()));
const standInEndpoint = `http://127.0.0.1:${(awsStandIn.address() as AddressInfo).port}`;
const work = await mkdtemp(join(tmpdir(), 'pusher-cold-start-'));
try {
  await seed(endpoint);
  const bundles = await buildHandlers({
    rootDir: ROOT,
    outDir: join(work, 'dist'),
    extraEntries: BASELINES,
  });
  const measured = bundles.filter((bundle) => bundle.name in EVENTS);
  const skipped = bundles.filter((bundle) => !(bundle.name in EVENTS)).map((bundle) => bundle.name);
  for (const bundle of measured) {
    await writeFile(join(work, `${bundle.name}.json`), JSON.stringify(EVENTS[bundle.name]!()));
  }
  const env = {
    PATH: process.env.PATH,
    AWS_ACCESS_KEY_ID: 'fake',
    AWS_SECRET_ACCESS_KEY: 'fake',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    APP_MANAGER_DYNAMODB_TABLE: TABLE,
    STATE_TABLE: STATE,
    WEBSOCKET_API_ENDPOINT: standInEndpoint,
    AWS_ENDPOINT_URL_LAMBDA: standInEndpoint,
    GREETER_FUNCTION_NAME: 'cold-start-greeter',
    WEBHOOK_QUEUE_URL: `${standInEndpoint}/000000000000/webhooks`,
    WEBHOOK_DEAD_LETTER_QUEUE_URL: `${standInEndpoint}/000000000000/webhook-dead-letters`,
    FAN_OUT_FAILURE_QUEUE_URL: `${standInEndpoint}/000000000000/fan-out-failures.fifo`,
    POWERTOOLS_LOG_LEVEL: 'WARN',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  const samples = new Map(measured.map((bundle) => [bundle.name, [] as number[]]));
  const loads = new Map(measured.map((bundle) => [bundle.name, [] as number[]]));
  for (let round = 0; round < SAMPLES; round++) {
    for (let offset = 0; offset < measured.length; offset++) {
      const bundle = measured[(round + offset) % measured.length]!;
      const { stdout } = await run(
        process.execPath,
        [
          join(ROOT, 'bench/cold-start/measure-one.mjs'),
          join(work, 'dist', bundle.name, BUNDLE_FILE),
          join(work, `${bundle.name}.json`),
        ],
        { env },
      );
      const sample = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
        loadMs: number;
        invokeMs: number;
        ok: boolean;
      };
      if (!sample.ok) throw new Error(`${bundle.name} did not answer its event`);
      samples.get(bundle.name)!.push(sample.loadMs + sample.invokeMs);
      loads.get(bundle.name)!.push(sample.loadMs);
    }
  }
  const allMet = printTable(measured, samples, loads);
  if (skipped.length > 0) console.log(`(no event defined yet, not measured: ${skipped.join(', ')})`);
  if (!allMet) process.exitCode = 1;
} finally {
  await rm(work, { recursive: true, force: true });
  await new Promise<void>((resolve) => database.close(() => resolve()));
  await new Promise<void>((resolve) => awsStandIn.close(() => resolve()));
}

async function seed(at: string): Promise<void> {
  const client = new DynamoDBClient({
    endpoint: at,
    region: 'us-east-1',
    credentials: { accessKeyId: 'f', secretAccessKey: 'f' },
  });
  await client.send(new CreateTableCommand(appsTableDefinition(TABLE)));
  await client.send(new PutItemCommand({ TableName: TABLE, Item: toAppItem(APP) }));
  await client.send(new CreateTableCommand(stateTableDefinition(STATE)));
  client.destroy();
}

function printTable(
  bundles: readonly BundleReport[],
  samples: ReadonlyMap<string, number[]>,
  loads: ReadonlyMap<string, number[]>,
): boolean {
  const sizeOf = (name: string) => bundles.find((bundle) => bundle.name === name)!.bytes;
  const kb = (bytes: number) => (bytes / 1024).toFixed(1);
  const percent = (ratio: number) => `${ratio >= 0 ? '+' : ''}${(ratio * 100).toFixed(1)} %`;
  // Each round measures every bundle back to back, so the ratio within a round cancels the machine's drift;
  // the reported figure is the median of those paired ratios.
  const addedTime = (name: string, baseline: string) => {
    const baselineSamples = samples.get(baseline)!;
    return median(samples.get(name)!.map((ms, round) => ms / baselineSamples[round]!)) - 1;
  };
  console.log(
    `\nCold start: fresh node process, import the bundle and answer one event (median of ${SAMPLES})`,
  );
  const columns = (...cells: [string, number][]) =>
    cells.map(([text, width]) => text.padStart(width)).join('');
  console.log(
    `${'bundle'.padEnd(22)}${columns(['size KB', 9], ['gzip KB', 9], ['load', 9], ['load+answer', 13], ['vs DynamoDB-only', 18], ['vs same clients', 17], ['+KB', 8])}  same-clients baseline`,
  );
  for (const bundle of bundles) {
    const baseline = baselineOf(bundle.name);
    console.log(
      `${bundle.name.padEnd(22)}${columns(
        [kb(bundle.bytes), 9],
        [kb(bundle.gzipBytes), 9],
        [`${median(loads.get(bundle.name)!).toFixed(1)} ms`, 9],
        [`${median(samples.get(bundle.name)!).toFixed(1)} ms`, 13],
        [percent(addedTime(bundle.name, BASELINE)), 18],
        [percent(addedTime(bundle.name, baseline)), 17],
        [kb(bundle.bytes - sizeOf(baseline)), 8],
      )}  ${baseline}`,
    );
  }
  let allMet = true;
  for (const bundle of bundles.filter((b) => !(b.name in BASELINES))) {
    const baseline = baselineOf(bundle.name);
    const time = addedTime(bundle.name, baseline);
    const addedKb = (bundle.bytes - sizeOf(baseline)) / 1024;
    const figures = `${bundle.name} vs ${baseline}: ${percent(time)} time, +${addedKb.toFixed(1)} KB`;
    if (!JUDGED.has(bundle.name)) {
      console.log(`----  ${figures} (carries the protocol by design: figures only)`);
      continue;
    }
    const met = time <= MAX_ADDED_TIME && addedKb <= MAX_ADDED_KB;
    allMet &&= met;
    console.log(
      `${met ? 'PASS' : 'MISS'}  ${figures} (targets ≤ +${MAX_ADDED_TIME * 100} % time, ≤ +${MAX_ADDED_KB} KB)`,
    );
  }
  return allMet;
}
