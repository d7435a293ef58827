import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CATALOG_FILE = fileURLToPath(new URL('../../../scripts/serverless/lambdas.cjs', import.meta.url));

type Resolve = (variable: string) => Promise<unknown>;
interface Catalog {
  functions(context: {
    resolveVariable: Resolve;
  }): Promise<Record<string, { environment?: Record<string, unknown> }>>;
  roles(context: { resolveVariable: Resolve }): Promise<{ Resources: Record<string, unknown> }>;
  httpApiAuthorizers(context: { resolveVariable: Resolve }): Promise<Record<string, unknown>>;
}

/** The catalog as serverless.yml loads it, in a service directory holding only the given handlers. */
function catalogWith(handlers: readonly string[]): Catalog {
  const dir = mkdtempSync(join(tmpdir(), 'catalog-'));
  mkdirSync(join(dir, 'scripts', 'serverless'), { recursive: true });
  cpSync(CATALOG_FILE, join(dir, 'scripts', 'serverless', 'lambdas.cjs'));
  mkdirSync(join(dir, 'handlers'));
  for (const handler of handlers) writeFileSync(join(dir, 'handlers', `${handler}.ts`), '');
  return createRequire(import.meta.url)(join(dir, 'scripts', 'serverless', 'lambdas.cjs')) as Catalog;
}

function resolver(params: Record<string, string> = {}): Resolve {
  const values: Record<string, unknown> = {
    'self:service': 'pusher-authorizer',
    'sls:stage': 'dev',
    'self:custom.appsTableName': 'apps',
    'self:custom.appsTableRegion': 'us-east-1',
    'param:websocketApiEndpoint, null': params.websocketApiEndpoint ?? null,
    'param:cloudFront, "false"': params.cloudFront ?? 'false',
    'param:localStack, "false"': params.localStack ?? 'false',
  };
  return async (variable) => {
    if (!(variable in values)) throw new Error(`unexpected variable ${variable}`);
    return values[variable];
  };
}

const WEBSOCKET = ['ws-connect-authorizer', 'ws-connect', 'ws-greeter', 'ws-default', 'ws-disconnect'];

describe('scripts/serverless/lambdas.cjs', () => {
  it('declares nothing while no handler exists', async () => {
    const catalog = catalogWith([]);

    expect(await catalog.functions({ resolveVariable: resolver() })).toEqual({});
    expect((await catalog.roles({ resolveVariable: resolver() })).Resources).toEqual({});
    expect(await catalog.httpApiAuthorizers({ resolveVariable: resolver() })).toEqual({});
  });

  it('holds back $connect until its authorizer and the greeter exist', async () => {
    const withoutAuthorizer = catalogWith(['ws-connect', 'ws-greeter']);
    const complete = catalogWith(['ws-connect', 'ws-greeter', 'ws-connect-authorizer']);

    expect(Object.keys(await withoutAuthorizer.functions({ resolveVariable: resolver() }))).toEqual([
      'wsGreeter',
    ]);
    expect(Object.keys(await complete.functions({ resolveVariable: resolver() })).sort()).toEqual([
      'wsConnect',
      'wsConnectAuthorizer',
      'wsGreeter',
    ]);
  });

  it('drops what depends on a dropped function, down the chain', async () => {
    const catalog = catalogWith(['ws-connect-authorizer', 'ws-connect', 'ws-default', 'ws-disconnect']);

    expect(Object.keys(await catalog.functions({ resolveVariable: resolver() }))).toEqual([
      'wsConnectAuthorizer',
    ]);
  });

  it('gives every declared function a role, and no role to an undeclared one', async () => {
    const catalog = catalogWith(['http-authorizer', 'http-events', ...WEBSOCKET]);
    const functions = Object.keys(await catalog.functions({ resolveVariable: resolver() }));
    const roles = Object.keys((await catalog.roles({ resolveVariable: resolver() })).Resources);

    expect(functions).toContain('httpEvents');
    expect(roles.sort()).toEqual(
      functions.map((key) => `${key[0]!.toUpperCase()}${key.slice(1)}Role`).sort(),
    );
  });

  it('configures the HTTP authorizer only when its handler exists', async () => {
    expect(
      await catalogWith(['http-authorizer']).httpApiAuthorizers({ resolveVariable: resolver() }),
    ).toEqual({
      httpAuthorizer: expect.objectContaining({
        type: 'request',
        functionName: 'httpAuthorizer',
        enableSimpleResponses: true,
        payloadVersion: '2.0',
        resultTtlInSeconds: 0,
        identitySource: ['$request.querystring.auth_signature'],
      }),
    });
  });

  it('points the posting functions at the WebSocket API, or at the endpoint the local stack names', async () => {
    const catalog = catalogWith(['http-authorizer', 'http-events', ...WEBSOCKET]);
    const deployed = await catalog.functions({ resolveVariable: resolver() });
    const local = await catalog.functions({
      resolveVariable: resolver({ websocketApiEndpoint: 'http://127.0.0.1:4001' }),
    });

    expect(deployed.httpEvents?.environment).toEqual({
      WEBSOCKET_API_ENDPOINT: {
        'Fn::Sub': `https://\${WebsocketsApi}.execute-api.\${AWS::Region}.amazonaws.com/dev`,
      },
      FAN_OUT_FUNCTION_NAME: 'pusher-authorizer-dev-fanOutWorker',
    });
    expect(local.httpEvents?.environment).toEqual({
      WEBSOCKET_API_ENDPOINT: 'http://127.0.0.1:4001',
      FAN_OUT_FUNCTION_NAME: 'pusher-authorizer-dev-fanOutWorker',
    });
    for (const key of ['wsGreeter', 'wsDefault', 'wsDisconnect']) {
      expect(local[key]?.environment, key).toEqual({ WEBSOCKET_API_ENDPOINT: 'http://127.0.0.1:4001' });
    }
    expect(deployed.wsConnect?.environment).toEqual({
      GREETER_FUNCTION_NAME: 'pusher-authorizer-dev-wsGreeter',
    });
  });

  it('declares every planned function for the local stack, present or not, with the HTTP authorizer', async () => {
    const catalog = catalogWith(['ws-connect-authorizer']);
    const local = resolver({ localStack: 'true' });
    const functions = Object.keys(await catalog.functions({ resolveVariable: local }));

    expect(functions).toEqual(
      expect.arrayContaining(['wsConnect', 'wsGreeter', 'httpAuthorizer', 'httpEvents']),
    );
    expect(Object.keys((await catalog.roles({ resolveVariable: local })).Resources)).toHaveLength(
      functions.length,
    );
    expect(Object.keys(await catalog.httpApiAuthorizers({ resolveVariable: local }))).toEqual([
      'httpAuthorizer',
    ]);
  });

  it('refuses cloudFront=true before both APIs have their handlers', async () => {
    const websocketOnly = catalogWith(WEBSOCKET);

    await expect(websocketOnly.roles({ resolveVariable: resolver({ cloudFront: 'true' }) })).rejects.toThrow(
      /cloudFront=true needs both the WebSocket API and the HTTP API/,
    );
    await expect(websocketOnly.roles({ resolveVariable: resolver() })).resolves.toBeDefined();
  });
});
