import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CATALOG_FILE = fileURLToPath(new URL('../../../scripts/serverless/lambdas.cjs', import.meta.url));

type Resolve = (variable: string) => Promise<unknown>;
interface Catalog {
  functions(context: {
    resolveVariable: Resolve;
  }): Promise<Record<string, { environment?: Record<string, unknown> }>>;
  roles(context: { resolveVariable: Resolve }): Promise<{ Resources: Record<string, unknown> }>;
  httpApiAuthorizers: Record<string, unknown>;
  handlerNames: readonly string[];
}

/** The catalog as serverless.yml loads it. */
const LOCAL_QUEUE = 'http://127.0.0.1:9324/123456789012/webhooks';
const LOCAL_FAN_OUT_QUEUE = 'http://127.0.0.1:9324/123456789012/fan-out.fifo';
const LOCAL_FAN_OUT_FAILURES = 'http://127.0.0.1:9324/123456789012/fan-out-failures.fifo';
const catalog = createRequire(import.meta.url)(CATALOG_FILE) as Catalog;
const HANDLERS_DIR = fileURLToPath(new URL('../../../handlers', import.meta.url));

function resolver(params: Record<string, string> = {}): Resolve {
  const values: Record<string, unknown> = {
    'self:service': 'pusher-authorizer',
    'sls:stage': params.stage ?? 'dev',
    'self:custom.appsTableName': 'apps',
    'self:custom.appsTableRegion': 'us-east-1',
    'param:websocketApiEndpoint, null': params.websocketApiEndpoint ?? null,
    'param:webhookQueueUrl, null': params.webhookQueueUrl ?? null,
    'param:webhookDeadLetterQueueUrl, null': params.webhookDeadLetterQueueUrl ?? null,
    'param:fanOutQueueUrl, null': params.fanOutQueueUrl ?? null,
    'param:fanOutFailureQueueUrl, null': params.fanOutFailureQueueUrl ?? null,
    'param:webhooksBatching, "false"': params.webhooksBatching ?? 'false',
    'param:webhookRetryBudgetSeconds, "270"': params.webhookRetryBudgetSeconds ?? '270',
    'param:allowPrivateWebhookUrls, "false"': params.allowPrivateWebhookUrls ?? 'false',
    'param:webhookLambdaFunctions, ""': params.webhookLambdaFunctions ?? '',
    'param:webhookLambdaEndpoints, "false"': params.webhookLambdaEndpoints ?? 'false',
    'param:connectionSweepPeriodSeconds, "60"': params.connectionSweepPeriodSeconds ?? '60',
    'param:ghostConnectionBoundSeconds, "300"': params.ghostConnectionBoundSeconds ?? '300',
    'param:maxChannelsPerConnection, "100"': params.maxChannelsPerConnection ?? '100',
    'param:connectionOpsPerSecond, "10"': params.connectionOpsPerSecond ?? '10',
    'param:connectionOpsBurst, "100"': params.connectionOpsBurst ?? '100',
  };
  return async (variable) => {
    if (!(variable in values)) throw new Error(`unexpected variable ${variable}`);
    return values[variable];
  };
}

describe('scripts/serverless/lambdas.cjs', () => {
  it('declares one function for each handler in handlers/, and none without one', async () => {
    const files = readdirSync(HANDLERS_DIR).map((file) => file.replace(/\.ts$/, ''));
    const functions = await catalog.functions({ resolveVariable: resolver() });

    expect([...catalog.handlerNames].sort()).toEqual(files.sort());
    expect(Object.keys(functions)).toHaveLength(files.length);
  });

  it('gives every function a role of its own, and no other role', async () => {
    const functions = Object.keys(await catalog.functions({ resolveVariable: resolver() }));
    const roles = Object.keys((await catalog.roles({ resolveVariable: resolver() })).Resources);

    expect(functions).toContain('httpEvents');
    expect(roles.sort()).toEqual(
      functions.map((key) => `${key[0]!.toUpperCase()}${key.slice(1)}Role`).sort(),
    );
  });

  it('configures the HTTP authorizer: payload 2.0, simple responses, no cache, the signature as source', () => {
    expect(catalog.httpApiAuthorizers).toEqual({
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
    const deployed = await catalog.functions({ resolveVariable: resolver() });
    const local = await catalog.functions({
      resolveVariable: resolver({
        websocketApiEndpoint: 'http://127.0.0.1:4001',
        webhookQueueUrl: LOCAL_QUEUE,
        fanOutQueueUrl: LOCAL_FAN_OUT_QUEUE,
        fanOutFailureQueueUrl: LOCAL_FAN_OUT_FAILURES,
      }),
    });

    expect(deployed.httpEvents?.environment).toEqual({
      WEBSOCKET_API_ENDPOINT: {
        'Fn::Sub': `https://\${WebsocketsApi}.execute-api.\${AWS::Region}.amazonaws.com/dev`,
      },
      WEBHOOK_QUEUE_URL: { Ref: 'WebhookQueue' },
      FAN_OUT_QUEUE_URL: { Ref: 'FanOutQueue' },
    });
    expect(local.httpEvents?.environment).toEqual({
      WEBSOCKET_API_ENDPOINT: 'http://127.0.0.1:4001',
      WEBHOOK_QUEUE_URL: LOCAL_QUEUE,
      FAN_OUT_QUEUE_URL: LOCAL_FAN_OUT_QUEUE,
    });
    expect(local.fanOutWorker?.environment).toMatchObject({
      FAN_OUT_FAILURE_QUEUE_URL: LOCAL_FAN_OUT_FAILURES,
    });
    expect(deployed.fanOutWorker?.environment).toMatchObject({
      FAN_OUT_FAILURE_QUEUE_URL: { Ref: 'FanOutFailureQueue' },
    });
    expect(local.wsGreeter?.environment).toEqual({ WEBSOCKET_API_ENDPOINT: 'http://127.0.0.1:4001' });
    for (const key of ['wsDefault', 'wsDisconnect', 'fanOutWorker', 'httpTerminateUserConnections']) {
      expect(local[key]?.environment, key).toMatchObject({
        WEBSOCKET_API_ENDPOINT: 'http://127.0.0.1:4001',
        WEBHOOK_QUEUE_URL: LOCAL_QUEUE,
      });
    }
    expect(deployed.wsConnect?.environment).toEqual({
      GREETER_FUNCTION_NAME: 'pusher-authorizer-dev-wsGreeter',
      CONNECTION_SWEEP_PERIOD_SECONDS: '60',
      GHOST_CONNECTION_BOUND_SECONDS: '300',
    });
  });

  it('gives the webhook sender its queues and the stage settings, and invokes only the functions the stage names', async () => {
    const sender = (await catalog.functions({ resolveVariable: resolver() })).webhookSender;
    expect(sender?.environment).toEqual({
      WEBHOOK_QUEUE_URL: { Ref: 'WebhookQueue' },
      WEBHOOK_DEAD_LETTER_QUEUE_URL: { Ref: 'WebhookDeadLetterQueue' },
      WEBHOOKS_BATCHING: 'false',
      WEBHOOKS_RETRY_BUDGET_SECONDS: '270',
      WEBHOOKS_ALLOW_PRIVATE_URLS: 'false',
      WEBHOOKS_LAMBDA_FUNCTIONS: '',
      WEBHOOKS_LAMBDA_ENDPOINTS: 'false',
    });
    const invokes = async (params: Record<string, string>) => {
      const { Resources } = await catalog.roles({ resolveVariable: resolver(params) });
      const role = Resources.WebhookSenderRole as {
        Properties: {
          Policies: { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } }[];
        };
      };
      return role.Properties.Policies[0]!.PolicyDocument.Statement.filter(
        (statement) => statement.Action === 'lambda:InvokeFunction',
      ).map((statement) => statement.Resource);
    };
    expect(await invokes({})).toEqual([]);
    expect(
      await invokes({ webhookLambdaFunctions: 'audit, arn:aws:lambda:eu-west-1:1:function:hook' }),
    ).toEqual([
      [
        { 'Fn::Sub': `arn:\${AWS::Partition}:lambda:*:\${AWS::AccountId}:function:audit` },
        'arn:aws:lambda:eu-west-1:1:function:hook',
      ],
    ]);
  });

  it("gives $default the stage's per-connection limits, and no other function", async () => {
    type Fn = { environment?: Record<string, string> };
    const functionsOf = async (params: Record<string, string>) =>
      (await catalog.functions({ resolveVariable: resolver(params) })) as Record<string, Fn>;
    const limitsOf = (fn: Fn | undefined) =>
      Object.fromEntries(
        Object.entries(fn?.environment ?? {}).filter(([name]) => /CHANNELS_PER|CONNECTION_OPS/.test(name)),
      );

    const deployed = await functionsOf({});
    expect(limitsOf(deployed.wsDefault)).toEqual({
      MAX_CHANNELS_PER_CONNECTION: '100',
      CONNECTION_OPS_PER_SECOND: '10',
      CONNECTION_OPS_BURST: '100',
    });
    for (const [name, fn] of Object.entries(deployed)) {
      if (name !== 'wsDefault') expect(limitsOf(fn), name).toEqual({});
    }
    const tuned = await functionsOf({
      maxChannelsPerConnection: '20',
      connectionOpsPerSecond: '-1',
      connectionOpsBurst: '5',
    });
    expect(limitsOf(tuned.wsDefault)).toEqual({
      MAX_CHANNELS_PER_CONNECTION: '20',
      CONNECTION_OPS_PER_SECOND: '-1',
      CONNECTION_OPS_BURST: '5',
    });
    // What $default would refuse at every cold start fails the package instead, naming the parameter.
    await expect(functionsOf({ maxChannelsPerConnection: '0' })).rejects.toThrow(
      /maxChannelsPerConnection must be a whole number from 1 to 10000, got 0/,
    );
    await expect(functionsOf({ connectionOpsPerSecond: 'fast' })).rejects.toThrow(
      /connectionOpsPerSecond must be a number from 0.01 to 1000, or negative for unlimited, got fast/,
    );
    await expect(functionsOf({ connectionOpsBurst: '2.5' })).rejects.toThrow(/connectionOpsBurst must be/);
  });

  it('schedules the sweeper in whole minutes and gives its plan to $connect, refusing a plan that cannot work', async () => {
    type Fn = { events?: { schedule?: { rate: string[] } }[]; environment?: Record<string, string> };
    const sweeperOf = async (params: Record<string, string>) =>
      (await catalog.functions({ resolveVariable: resolver(params) })) as Record<string, Fn>;

    const deployed = await sweeperOf({});
    expect(deployed.connectionSweeper?.events).toEqual([{ schedule: { rate: ['rate(1 minute)'] } }]);
    expect(deployed.wsConnect?.environment).toMatchObject({
      CONNECTION_SWEEP_PERIOD_SECONDS: '60',
      GHOST_CONNECTION_BOUND_SECONDS: '300',
    });
    expect(
      (await sweeperOf({ connectionSweepPeriodSeconds: '120', ghostConnectionBoundSeconds: '600' }))
        .connectionSweeper?.events,
    ).toEqual([{ schedule: { rate: ['rate(2 minutes)'] } }]);
    // The local stack runs the schedule itself, in seconds if it likes.
    expect(
      (
        await sweeperOf({
          stage: 'local',
          connectionSweepPeriodSeconds: '2',
          ghostConnectionBoundSeconds: '10',
        })
      ).connectionSweeper?.events,
    ).toEqual([]);
    // Even a period EventBridge could run: the stack's own timer is the one schedule.
    expect((await sweeperOf({ stage: 'local' })).connectionSweeper?.events).toEqual([]);
    await expect(sweeperOf({ connectionSweepPeriodSeconds: '90' })).rejects.toThrow(
      /connectionSweepPeriodSeconds.*whole number of minutes/,
    );
    await expect(sweeperOf({ ghostConnectionBoundSeconds: '120' })).rejects.toThrow(
      /ghostConnectionBoundSeconds.*three sweep periods/,
    );
    // The ranges $connect and the sweeper accept (src/gateway/config.ts), refused at package time.
    await expect(
      sweeperOf({ connectionSweepPeriodSeconds: '7200', ghostConnectionBoundSeconds: '7200' }),
    ).rejects.toThrow(/connectionSweepPeriodSeconds must be a number from 1 to 3600, got 7200/);
    await expect(sweeperOf({ ghostConnectionBoundSeconds: '9000' })).rejects.toThrow(
      /ghostConnectionBoundSeconds must be a number from 3 to 7200, got 9000/,
    );
    await expect(sweeperOf({ connectionSweepPeriodSeconds: 'soon' })).rejects.toThrow(
      /connectionSweepPeriodSeconds must be a number from 1 to 3600, got NaN/,
    );
  });
});
