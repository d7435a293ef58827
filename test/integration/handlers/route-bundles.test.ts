import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const ROUTES = {
  'http-events': 'publish',
  'http-batch-events': 'publish',
  'http-channels': 'read',
  'http-channel': 'read',
  'http-channel-users': 'read',
  'http-terminate-user-connections': 'terminate',
  'ws-connect': 'connect',
} as const;

/**
 * What each route kind may bundle: the clients and modules of what it calls, nothing of other routes. The HTTP
 * routes look their app up by id; `$connect` finds it in the authorizer context and never posts (the greeter
 * it invokes does).
 */
const EXPECTED = {
  publish: {
    connections: true,
    lambda: true,
    publishing: true,
    terminate: false,
    channelQueries: false,
    appLookup: true,
    itemConverters: true,
  },
  read: {
    connections: false,
    lambda: false,
    publishing: false,
    terminate: false,
    channelQueries: true,
    appLookup: true,
    itemConverters: true,
  },
  terminate: {
    connections: true,
    lambda: false,
    publishing: false,
    terminate: true,
    channelQueries: false,
    appLookup: true,
    itemConverters: true,
  },
  connect: {
    connections: false,
    lambda: true,
    publishing: false,
    terminate: false,
    channelQueries: false,
    appLookup: false,
    itemConverters: false,
  },
};

let inputsOf: Record<string, string[]>;

beforeAll(async () => {
  // The bundler's own view of what each route Lambda imports, resolved as scripts/build.ts resolves it.
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: Object.fromEntries(Object.keys(ROUTES).map((name) => [name, `handlers/${name}.ts`])),
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

describe('each route Lambda bundles only what its route calls', () => {
  it.each(Object.entries(ROUTES))('%s (%s)', (name, kind) => {
    const inputs = inputsOf[name]!;
    const has = (pattern: RegExp) => inputs.some((input) => pattern.test(input));

    expect({
      connections: has(/@aws-sdk\/client-apigatewaymanagementapi\//),
      lambda: has(/@aws-sdk\/client-lambda\//),
      publishing: has(/^src\/publish\/(publish|fan-out|fan-out-worker)\.ts$/),
      terminate: has(/^src\/publish\/terminate\.ts$/),
      channelQueries: has(/^src\/publish\/channel-queries\.ts$/),
      // The resolver, its store, cache and item parser; the model's constants and the DynamoDB client
      // factory are shared with the state table.
      appLookup: has(/^src\/apps\/(?!(app|client)\.ts$)/),
      itemConverters: has(/@aws-sdk\/util-dynamodb\//),
    }).toEqual(EXPECTED[kind]);
  });
});
