// The two authorizer Lambdas, invoked in-process through their real handler modules (middy, logger,
// resolver, DynamoDB client) on a warm cache, next to a bare createHmac of the same string to sign; and the
// DynamoDB calls 10,000 invocations across 10 apps cost, counted by a proxy in front of an embedded dynalite.
import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import Pusher from 'pusher';
import { toAppItem } from '../src/apps/parse-item.js';
import { appsTableDefinition } from '../src/apps/table-schema.js';
import { BUNDLE_FILE, buildHandlers } from '../src/local/build.js';
import { parseQueryString, stringToSign } from '../src/protocol/index.js';
import { testApp } from '../test/fixtures/apps/items.js';
import { startDynamoDbProxy } from '../test/support/aws-json-proxy.js';
import {
  httpAuthorizerEvent,
  pusherJsConnectQuery,
  wsConnectAuthorizerEvent,
} from '../test/support/events.js';
import { lambdaContext } from '../test/support/lambda-context.js';
import { type Benchmark, type BenchReport, measureInterleaved, ratioOf, setEnvironment } from './support.js';

/** A handler bundle exports what its source does. */
type HandlerModule<T> = Pick<T, Extract<keyof T, 'handler'>>;

const APP_COUNT = 10;
const INVOCATIONS = 10_000;
const TABLE = 'bench-apps';
const HTTP = 'HTTP API authorizer';
const WS = '$connect authorizer';
const BARE_HMAC = 'bare createHmac';

export const authorizerBenchmark: Benchmark = {
  name: 'authorizers',
  async run(): Promise<BenchReport> {
    const bundles = await mkdtemp(join(tmpdir(), 'pusher-bench-'));
    await buildHandlers({ rootDir: fileURLToPath(new URL('..', import.meta.url)), outDir: bundles });
    const database = dynalite({ createTableMs: 0 });
    await new Promise<void>((resolve) => database.listen(0, '127.0.0.1', () => resolve()));
    const endpoint = `http://127.0.0.1:${(database.address() as AddressInfo).port}`;
    const proxy = await startDynamoDbProxy(endpoint);
    let restoreEnvironment = () => {};
    try {
      const apps = await seedApps(endpoint);
      restoreEnvironment = setEnvironment({
        AWS_ACCESS_KEY_ID: 'fake',
        AWS_SECRET_ACCESS_KEY: 'fake',
        AWS_REGION: 'us-east-1',
        APP_MANAGER_DYNAMODB_TABLE: TABLE,
        APP_MANAGER_DYNAMODB_ENDPOINT: proxy.endpoint,
        POWERTOOLS_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'INFO',
      });
      // The bundles that ship (esbuild, minified), not the TypeScript sources: tsx keeps function names,
      // which costs every closure a defineProperty and would measure the loader instead of the code.
      const http: HandlerModule<typeof import('../handlers/http-authorizer.js')> = await import(
        pathToFileURL(join(bundles, 'http-authorizer', BUNDLE_FILE)).href
      );
      const ws: HandlerModule<typeof import('../handlers/ws-connect-authorizer.js')> = await import(
        pathToFileURL(join(bundles, 'ws-connect-authorizer', BUNDLE_FILE)).href
      );
      const context = lambdaContext('bench');
      const httpEvents = apps.map((app) => signedTrigger(app));
      const wsEvents = apps.map((app) => wsConnectAuthorizerEvent({ query: pusherJsConnectQuery(app.key) }));
      const toSign = stringToSign({
        method: 'POST',
        path: httpEvents[0]!.rawPath,
        params: parseQueryString(httpEvents[0]!.rawQueryString),
      });

      // Each handler logs one JSON line per decision; its cost is measured, the terminal is spared.
      return await withStdoutDiscarded(async () => {
        proxy.resetCounts();
        for (let i = 0; i < INVOCATIONS; i++) {
          const result = await http.handler(httpEvents[i % APP_COUNT]!, context);
          if (!result.isAuthorized) throw new Error('The benchmark request was not authorized');
        }
        const httpCalls = proxy.count();
        proxy.resetCounts();
        for (let i = 0; i < INVOCATIONS; i++) await ws.handler(wsEvents[i % APP_COUNT]!, context);
        const wsCalls = proxy.count();

        let next = 0;
        const medians = await measureInterleaved(
          [
            { name: HTTP, runAsync: () => http.handler(httpEvents[next++ % APP_COUNT]!, context) },
            { name: WS, runAsync: () => ws.handler(wsEvents[next++ % APP_COUNT]!, context) },
            {
              name: BARE_HMAC,
              run: () => createHmac('sha256', apps[0]!.secret).update(toSign).digest('hex'),
            },
          ],
          { rounds: 21, batchSize: 1_000 },
        );
        return {
          title:
            'Authorizer Lambdas as bundled, warm cache, in-process invocation (median); DynamoDB calls counted',
          medians,
          targets: [
            { label: `${HTTP} / ${BARE_HMAC}`, ratio: ratioOf(medians, HTTP, BARE_HMAC), max: 4 },
            { label: `${WS} / ${BARE_HMAC}`, ratio: ratioOf(medians, WS, BARE_HMAC), max: 4 },
          ],
          counts: [
            {
              label: `DynamoDB calls, ${HTTP}, ${INVOCATIONS} invocations across ${APP_COUNT} apps`,
              value: httpCalls,
              max: APP_COUNT,
            },
            {
              label: `DynamoDB calls, ${WS}, ${INVOCATIONS} invocations across ${APP_COUNT} apps`,
              value: wsCalls,
              max: APP_COUNT,
            },
          ],
        };
      });
    } finally {
      restoreEnvironment();
      await proxy.close();
      await new Promise<void>((resolve) => database.close(() => resolve()));
      await rm(bundles, { recursive: true, force: true });
    }
  },
};

async function seedApps(endpoint: string) {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'fake', secretAccessKey: 'fake' },
  });
  await client.send(new CreateTableCommand(appsTableDefinition(TABLE)));
  const apps = Array.from({ length: APP_COUNT }, (_, i) => testApp(`bench-${i}`));
  for (const app of apps) await client.send(new PutItemCommand({ TableName: TABLE, Item: toAppItem(app) }));
  client.destroy();
  return apps;
}

function signedTrigger(app: { id: string; key: string; secret: string }) {
  const pusher = new Pusher({ appId: app.id, key: app.key, secret: app.secret, host: '127.0.0.1' });
  const path = `/apps/${app.id}/events`;
  const body = JSON.stringify({ name: 'order-updated', channels: ['private-orders-42'], data: '{"id":42}' });
  const rawQueryString = pusher.createSignedQueryString({ method: 'POST', path, body });
  return httpAuthorizerEvent({ method: 'POST', rawPath: path, rawQueryString });
}

async function withStdoutDiscarded<T>(action: () => Promise<T>): Promise<T> {
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return await action();
  } finally {
    process.stdout.write = write;
  }
}
