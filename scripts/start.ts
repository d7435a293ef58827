// `npm start`: the local stack (see src/local/stack.ts). PORT (default 6001) is the one port clients use;
// --persist keeps dynalite's data under .data/dynamodb. Ctrl-C stops everything.
import { join } from 'node:path';
import { readVariable } from '../src/config/env.js';
import { type LocalStack, startLocalStack } from '../src/local/stack.js';

const persist = process.argv.includes('--persist');
const port = Number(process.env.PORT ?? 6001);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`PORT must be a port number, got "${process.env.PORT}"`);
  process.exit(1);
}

let stack: LocalStack | undefined;
let stopRequested = false;

async function shutDown(signal: string): Promise<void> {
  if (stopRequested) return;
  stopRequested = true;
  // A stack still starting is stopped as soon as it is up (its child would otherwise outlive us).
  if (!stack) return void console.log(`\n${signal}: stopping once the stack has started...`);
  console.log(`\n${signal}: stopping the local stack...`);
  await stack.stop();
  process.exit(0);
}
process.on('SIGINT', () => void shutDown('SIGINT'));
process.on('SIGTERM', () => void shutDown('SIGTERM'));

try {
  stack = await startLocalStack({
    port,
    ...(persist && { persistDir: join(process.cwd(), '.data', 'dynamodb') }),
  });
} catch (error) {
  console.error(`The local stack did not start: ${(error as Error).message}`);
  process.exit(1);
}
if (stopRequested) {
  await stack.stop();
  process.exit(0);
}

// A stack with a dead part answers nothing: say which part and why, stop the rest, and fail.
void stack.failure.then(async (failure) => {
  if (stopRequested) return;
  stopRequested = true;
  console.error(`\nThe local stack lost ${failure.part}: it ${failure.reason}\nStopping the rest.`);
  await stack?.stop();
  process.exit(1);
});

const { app, urls } = stack;
const host = new URL(urls.http).hostname;
// A secret the user chose stays in their environment, not in our output.
const chosenSecret = readVariable(process.env, 'DEFAULT_APP_SECRET');
const secret = chosenSecret ? `process.env.${chosenSecret.name}` : `'${app.secret}'`;
const dynamodb = readVariable(process.env, 'APP_MANAGER_DYNAMODB_ENDPOINT')
  ? urls.dynamodb
  : `${urls.dynamodb} (dynalite, ${persist ? 'persisted in .data/dynamodb' : 'in memory'})`;

console.log(`
Local stack ready on ${urls.http} (Ctrl-C stops it)
  WebSocket  ${urls.websocket}/app/${app.key}
  HTTP API   ${urls.http}/apps/${app.id}/events
  DynamoDB   ${dynamodb}, tables ${stack.tables.apps} and ${stack.tables.state}
  Lambdas    serverless offline, pid ${stack.offline.pid}

pusher-js:
  new Pusher('${app.key}', { wsHost: '${host}', wsPort: ${stack.port}, forceTLS: false, enabledTransports: ['ws'], cluster: 'local', disableStats: true });

pusher (server SDK):
  new Pusher({ appId: '${app.id}', key: '${app.key}', secret: ${secret}, host: '${host}', port: '${stack.port}', useTLS: false });
`);
