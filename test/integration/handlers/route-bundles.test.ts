import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
/** Every Lambda (`handlers/<name>.ts`) and the kind of work it does. */
const LAMBDAS = {
  'http-events': 'publish',
  'http-batch-events': 'publish',
  'http-channels': 'read',
  'http-channel': 'read',
  'http-channel-users': 'read',
  'http-terminate-user-connections': 'terminate',
  'ws-connect': 'connect',
  'ws-default': 'message',
  'ws-greeter': 'greeter',
  'ws-disconnect': 'cleanup',
  'connection-sweeper': 'cleanup',
  'fan-out-worker': 'fan-out',
  'ws-connect-authorizer': 'authorizer',
  'http-authorizer': 'authorizer',
  'webhook-sender': 'webhooks',
} as const;

const COLUMNS = [
  'connections',
  'lambda',
  'publishing',
  'terminate',
  'channelQueries',
  'appLookup',
  'rateLimiter',
  'itemConverters',
  'sqs',
  'webhookSender',
] as const;

/**
 * What each Lambda may bundle: the clients and modules of what it calls, nothing of other routes. The HTTP
 * routes look their app up by id; `$connect` finds it in the authorizer context and never posts (the greeter
 * it invokes does); only the Lambdas that enforce rates hold the limiter; none holds the SDK's item converters.
 * The Lambdas whose work raises webhook events hold the SQS client to enqueue them, never the sender's code.
 * Large channels' lanes go to the fan-out queue through the same SQS client; nothing invokes the fan-out worker.
 */
// biome-ignore format: one row per kind, one column per entry of COLUMNS
const EXPECTED: Record<(typeof LAMBDAS)[keyof typeof LAMBDAS], readonly boolean[]> = {
  //           connections lambda publishing terminate channelQueries appLookup rateLimiter itemConverters sqs    webhookSender
  publish:    [true,       false, true,       false,    false,         true,     true,       false,         true,  false],
  read:       [false,      false, false,     false,    true,          true,     true,       false,         false, false],
  terminate:  [true,       false, false,     true,     false,         true,     true,       false,         true,  false],
  connect:    [false,      true,  false,     false,    false,         false,    false,      false,         false, false],
  message:    [true,       false, true,       false,    false,         true,     true,       false,         true,  false],
  greeter:    [true,       false, false,     false,    false,         false,    false,      false,         false, false],
  cleanup:    [true,       false, false,     false,    false,         false,    false,      false,         true,  false],
  'fan-out':  [true,       false, true,       false,    false,         false,    false,      false,         true,  false],
  authorizer: [false,      false, false,     false,    false,         true,     false,      false,         false, false],
  webhooks:   [false,      true,  false,     false,    false,         true,     false,      false,         true,  true],
};

let inputsOf: Record<string, string[]>;

beforeAll(async () => {
  // The bundler's own view of what each route Lambda imports, resolved as scripts/build.ts resolves it.
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: Object.fromEntries(Object.keys(LAMBDAS).map((name) => [name, `handlers/${name}.ts`])),
    outdir: 'dist-route-bundles-test',
    bundle: true,
    platform: 'node',
    format: 'esm',
    mainFields: ['module', 'main'],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  inputsOf = Object.fromEntries(
    Object.entries(result.metafile.outputs)
      .filter(([, output]) => output.entryPoint !== undefined)
      .map(([, output]) => [
        output.entryPoint!.replace(/^handlers\/|\.ts$/g, ''),
        Object.keys(output.inputs),
      ]),
  );
});

describe('each Lambda bundles only what it calls', () => {
  it('covers every handler', async () => {
    const handlers = (await readdir(`${ROOT}handlers`)).filter((file) => file.endsWith('.ts'));
    expect(Object.keys(LAMBDAS).sort()).toEqual(handlers.map((file) => file.replace(/\.ts$/, '')).sort());
  });

  it.each(Object.entries(LAMBDAS))('%s (%s)', (name, kind) => {
    const inputs = inputsOf[name]!;
    const has = (pattern: RegExp) => inputs.some((input) => pattern.test(input));

    expect({
      connections: has(/@aws-sdk\/client-apigatewaymanagementapi\//),
      lambda: has(/@aws-sdk\/client-lambda\//),
      publishing: has(/^src\/publish\/(publish|fan-out|fan-out-job|fan-out-worker)\.ts$/),
      terminate: has(/^src\/http-api\/terminate\.ts$/),
      channelQueries: has(/^src\/http-api\/channel-queries\.ts$/),
      // The resolver, its store, cache and item parser; the model's constants and the DynamoDB client
      // factory are shared with the state table.
      appLookup: has(/^src\/apps\/(?!(app|client)\.ts$)/),
      rateLimiter: has(/^src\/limits\/rate-limiter\.ts$/),
      itemConverters: has(/@aws-sdk\/util-dynamodb\//),
      sqs: has(/@aws-sdk\/client-sqs\//),
      webhookSender: has(/^src\/webhooks\/(sender|delivery|bodies|address-guard|retry)\.ts$/),
    }).toEqual(Object.fromEntries(COLUMNS.map((column, index) => [column, EXPECTED[kind][index]])));
  });
});
