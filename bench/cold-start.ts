// `npm run bench:cold-start`: for each handler bundle, its size and the median time a fresh Node process
// takes to load it and answer one event against an embedded dynalite, next to the same for a bundle that only
// imports the DynamoDB client. Samples are interleaved across bundles so machine load hits all alike.
// Targets: this project adds at most 10 % to the SDK-only time and at most 50 KB to its size.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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
import { BUNDLE_FILE, type BundleReport, buildHandlers } from '../src/local/build.js';
import { testApp } from '../test/fixtures/apps/items.js';
import {
  httpAuthorizerEvent,
  pusherJsConnectQuery,
  wsConnectAuthorizerEvent,
} from '../test/support/events.js';
import { median } from './support.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SAMPLES = Number(process.env.COLD_START_SAMPLES ?? 15);
const BASELINE = 'sdk-only';
const TABLE = 'cold-start-apps';
const APP = testApp('cold-start');
const MAX_ADDED_TIME = 0.1;
const MAX_ADDED_KB = 50;

/** One event per handler that the handler answers fully (a valid, signed request for a known app). */
const EVENTS: Record<string, () => unknown> = {
  [BASELINE]: () => ({ table: TABLE, id: APP.id }),
  'http-authorizer': () => {
    const path = `/apps/${APP.id}/events`;
    const pusher = new Pusher({ appId: APP.id, key: APP.key, secret: APP.secret, host: '127.0.0.1' });
    const rawQueryString = pusher.createSignedQueryString({
      method: 'POST',
      path,
      body: '{"name":"e","channel":"c","data":"{}"}',
    });
    return httpAuthorizerEvent({ method: 'POST', rawPath: path, rawQueryString });
  },
  'ws-connect-authorizer': () => wsConnectAuthorizerEvent({ query: pusherJsConnectQuery(APP.key) }),
};

const run = promisify(execFile);

const database = dynalite({ createTableMs: 0 });
await new Promise<void>((resolve) => database.listen(0, '127.0.0.1', () => resolve()));
const endpoint = `http://127.0.0.1:${(database.address() as AddressInfo).port}`;
const work = await mkdtemp(join(tmpdir(), 'pusher-cold-start-'));
try {
  await seed(endpoint);
  const bundles = await buildHandlers({
    rootDir: ROOT,
    outDir: join(work, 'dist'),
    extraEntries: { [BASELINE]: 'bench/cold-start/sdk-only-handler.ts' },
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
    POWERTOOLS_LOG_LEVEL: 'WARN',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  const samples = new Map(measured.map((bundle) => [bundle.name, [] as number[]]));
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
    }
  }
  const allMet = printTable(measured, samples);
  if (skipped.length > 0) console.log(`(no event defined yet, not measured: ${skipped.join(', ')})`);
  if (!allMet) process.exitCode = 1;
} finally {
  await rm(work, { recursive: true, force: true });
  await new Promise<void>((resolve) => database.close(() => resolve()));
}

async function seed(at: string): Promise<void> {
  const client = new DynamoDBClient({
    endpoint: at,
    region: 'us-east-1',
    credentials: { accessKeyId: 'f', secretAccessKey: 'f' },
  });
  await client.send(new CreateTableCommand(appsTableDefinition(TABLE)));
  await client.send(new PutItemCommand({ TableName: TABLE, Item: toAppItem(APP) }));
  client.destroy();
}

function printTable(bundles: readonly BundleReport[], samples: ReadonlyMap<string, number[]>): boolean {
  const baseline = bundles.find((bundle) => bundle.name === BASELINE)!;
  const baselineMs = median(samples.get(BASELINE)!);
  const kb = (bytes: number) => (bytes / 1024).toFixed(1);
  console.log(
    `\nCold start: fresh node process, import the bundle and answer one event (median of ${SAMPLES})`,
  );
  console.log(
    `${'bundle'.padEnd(24)}${'size KB'.padStart(9)}${'gzip KB'.padStart(9)}${'load+answer'.padStart(13)}${'vs SDK-only'.padStart(13)}${'+KB'.padStart(8)}`,
  );
  let allMet = true;
  for (const bundle of bundles) {
    const ms = median(samples.get(bundle.name)!);
    const addedTime = ms / baselineMs - 1;
    const addedKb = (bundle.bytes - baseline.bytes) / 1024;
    console.log(
      `${bundle.name.padEnd(24)}${kb(bundle.bytes).padStart(9)}${kb(bundle.gzipBytes).padStart(9)}${`${ms.toFixed(1)} ms`.padStart(13)}${`${addedTime >= 0 ? '+' : ''}${(addedTime * 100).toFixed(1)} %`.padStart(13)}${addedKb.toFixed(1).padStart(8)}`,
    );
  }
  for (const bundle of bundles.filter((b) => b.name !== BASELINE)) {
    const addedTime = median(samples.get(bundle.name)!) / baselineMs - 1;
    const addedKb = (bundle.bytes - baseline.bytes) / 1024;
    const met = addedTime <= MAX_ADDED_TIME && addedKb <= MAX_ADDED_KB;
    allMet &&= met;
    console.log(
      `${met ? 'PASS' : 'MISS'}  ${bundle.name}: +${(addedTime * 100).toFixed(1)} % time (target ≤ ${MAX_ADDED_TIME * 100} %), +${addedKb.toFixed(1)} KB (target ≤ ${MAX_ADDED_KB} KB)`,
    );
  }
  return allMet;
}
