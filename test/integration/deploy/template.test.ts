import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { templateProblems } from '../../../scripts/serverless/template-spec.js';
import { appsTableDefinition } from '../../../src/apps/table-schema.js';
import { buildHandlers } from '../../../src/local/build.js';
import { EDGE_FUNCTION_FILE } from '../../../src/local/edge-function.js';
import { STATE_TTL_ATTRIBUTE, stateTableDefinition } from '../../../src/state/table-schema.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const { handlerNames } = createRequire(import.meta.url)('../../../scripts/serverless/lambdas.cjs') as {
  handlerNames: string[];
};
const STAGE = 'ci';
const SERVICE = 'pusher-authorizer';

type Json = Record<string, unknown>;
interface Resource {
  Type: string;
  Condition?: string;
  DeletionPolicy?: string;
  Properties: Json;
}
interface Template {
  Conditions: Json;
  Resources: Record<string, Resource>;
}
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Json;
}
interface Packaged {
  template: Template;
  outDir: string;
}

/** A copy of the service, without bundles. */
async function serviceCopy(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pusher-package-'));
  await cp(join(ROOT, 'serverless.yml'), join(dir, 'serverless.yml'));
  await cp(join(ROOT, 'scripts', 'serverless'), join(dir, 'scripts', 'serverless'), { recursive: true });
  await cp(join(ROOT, 'edge'), join(dir, 'edge'), { recursive: true });
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

/** Every handler's real bundle, as `npm run package` builds them, built once for every copy. */
async function everyHandlerBuilt(): Promise<string> {
  const dist = await mkdtemp(join(tmpdir(), 'pusher-bundles-'));
  const built = (await buildHandlers({ rootDir: ROOT, outDir: dist })).map((b) => b.name);
  expect(built.sort()).toEqual([...handlerNames].sort());
  return dist;
}

/** `serverless package` of `dir` with the stage parameters: its output and, if it fails, its error. */
async function runPackage(dir: string, outDir: string, params: Record<string, string>) {
  const cli = join(ROOT, 'node_modules', 'serverless', 'bin', 'serverless.js');
  const paramArgs = Object.entries(params).flatMap(([name, value]) => ['--param', `${name}=${value}`]);
  return promisify(execFile)(
    process.execPath,
    [cli, 'package', '--stage', STAGE, '--package', outDir, ...paramArgs],
    {
      cwd: dir,
      timeout: 60_000,
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        AWS_ACCESS_KEY_ID: 'fake',
        AWS_SECRET_ACCESS_KEY: 'fake',
        AWS_REGION: 'us-east-1',
        AWS_EC2_METADATA_DISABLED: 'true',
      },
    },
  );
}

async function packageService(dist: string, params: Record<string, string>): Promise<Packaged> {
  const dir = await serviceCopy();
  await cp(dist, join(dir, 'dist'), { recursive: true });
  const outDir = join(dir, 'package');
  await runPackage(dir, outDir, params);
  const template = JSON.parse(
    await readFile(join(outDir, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as Template;
  return { template, outDir };
}

/**
 * What `serverless package` says when it refuses the stage parameters (they are checked while serverless.yml
 * is resolved, before any bundle is read); fails when it packages.
 */
async function packagingRefusal(params: Record<string, string>): Promise<string> {
  const dir = await serviceCopy();
  try {
    await runPackage(dir, join(dir, 'package'), params);
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    return `${stdout ?? ''}${stderr ?? ''}`;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  throw new Error(`serverless package accepted ${JSON.stringify(params)}`);
}

function resourcesOfType(template: Template, type: string): [string, Resource][] {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

/** Each Lambda's logical id with the statements of the role it runs as. */
function statementsByFunction(template: Template): Map<string, Statement[]> {
  return new Map(
    resourcesOfType(template, 'AWS::Lambda::Function').map(([id, fn]) => {
      const [roleId] = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'];
      const role = template.Resources[roleId]!;
      const policies = role.Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[];
      return [id, policies.flatMap((policy) => policy.PolicyDocument.Statement)];
    }),
  );
}

const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);
const actionsOf = (statement: Statement): string[] => list(statement.Action) as string[];

/** A resource as text: an ARN string or template, or `GetAtt:Logical.Attribute`. */
function resourceTexts(statement: Statement): string[] {
  return list(statement.Resource).map((resource) => {
    if (typeof resource === 'string') return resource;
    const intrinsic = resource as { 'Fn::Sub'?: string; 'Fn::GetAtt'?: [string, string] };
    if (intrinsic['Fn::Sub'] !== undefined) return intrinsic['Fn::Sub'];
    if (intrinsic['Fn::GetAtt'] !== undefined) return `GetAtt:${intrinsic['Fn::GetAtt'].join('.')}`;
    throw new Error(`unexpected resource ${JSON.stringify(resource)}`);
  });
}

function simplified(statements: Statement[]): { action: string[]; resource: string[] }[] {
  return statements.map((statement) => ({
    action: actionsOf(statement),
    resource: resourceTexts(statement),
  }));
}

const tableArn = (region: string, table: string) =>
  `arn:\${AWS::Partition}:dynamodb:${region}:\${AWS::AccountId}:table/${table}`;
const APPS_TABLE = `${SERVICE}-${STAGE}-apps`;
const STATE_TABLE = `${SERVICE}-${STAGE}-state`;
const CONNECTIONS = new RegExp(
  `^arn:\\$\\{AWS::Partition\\}:execute-api:\\$\\{AWS::Region\\}:\\$\\{AWS::AccountId\\}:\\$\\{WebsocketsApi\\}/${STAGE}/(POST|DELETE|GET)/@connections/\\*$`,
);
/** What a function may call on the state table without a key condition. */
const STATE_READS = new Set(['GetItem', 'Query'].map((a) => `dynamodb:${a}`));
const STATE_WRITES = new Set(
  ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems'].map((a) => `dynamodb:${a}`),
);
/** What `cleanUpConnections` writes for a connection that is gone (src/cleanup/cleanup.ts). */
const CLEANUP_KEYS = ['connection#', 'channel#', 'channels#', 'user#', 'connections#'];
/**
 * Per function using the state table: its reads, its writes, the `pk` prefixes of what it writes (from each
 * handler's code, see scripts/serverless/lambdas.cjs) and its @connections methods.
 */
const STATE_ACCESS: Record<
  string,
  { reads: string[]; writes: string[]; keys: string[]; connections: string[] }
> = {
  // The MaxConnections counter, the connection record and its sweep entry.
  WsConnectLambdaFunction: {
    reads: ['GetItem'],
    writes: ['PutItem', 'UpdateItem', 'DeleteItem'],
    keys: ['connections#', 'connection#', 'sweep#'],
    connections: [],
  },
  WsGreeterLambdaFunction: {
    reads: ['GetItem', 'Query'],
    writes: ['UpdateItem', 'DeleteItem'],
    keys: CLEANUP_KEYS,
    connections: ['POST', 'DELETE'],
  },
  // Subscriptions, signin and client-event rates, and the cleanup of connections found gone.
  WsDefaultLambdaFunction: {
    reads: ['GetItem', 'Query'],
    writes: ['PutItem', 'UpdateItem', 'DeleteItem'],
    keys: [...CLEANUP_KEYS, 'rate#', 'cache#'],
    connections: ['POST', 'DELETE'],
  },
  WsDisconnectLambdaFunction: {
    reads: ['GetItem', 'Query'],
    writes: ['UpdateItem', 'DeleteItem'],
    keys: CLEANUP_KEYS,
    connections: ['POST'],
  },
  HttpEventsLambdaFunction: {
    reads: ['GetItem', 'Query'],
    writes: ['UpdateItem', 'DeleteItem'],
    keys: [...CLEANUP_KEYS, 'rate#', 'cache#'],
    connections: ['POST'],
  },
  HttpBatchEventsLambdaFunction: {
    reads: ['GetItem', 'Query'],
    writes: ['UpdateItem', 'DeleteItem'],
    keys: [...CLEANUP_KEYS, 'rate#', 'cache#'],
    connections: ['POST'],
  },
  FanOutWorkerLambdaFunction: {
    reads: ['GetItem', 'Query'],
    writes: ['UpdateItem', 'DeleteItem'],
    keys: CLEANUP_KEYS,
    connections: ['POST'],
  },
  ConnectionSweeperLambdaFunction: {
    reads: ['GetItem', 'Query'],
    writes: ['UpdateItem', 'DeleteItem'],
    keys: [...CLEANUP_KEYS, 'sweep#'],
    connections: ['GET', 'POST'],
  },
  // The read routes: their rate window and nothing else.
  HttpChannelsLambdaFunction: {
    reads: ['GetItem', 'Query'],
    writes: ['UpdateItem'],
    keys: ['rate#'],
    connections: [],
  },
  HttpChannelLambdaFunction: {
    reads: ['GetItem', 'Query'],
    writes: ['UpdateItem'],
    keys: ['rate#'],
    connections: [],
  },
  HttpChannelUsersLambdaFunction: {
    reads: ['GetItem', 'Query'],
    writes: ['UpdateItem'],
    keys: ['rate#'],
    connections: [],
  },
  HttpTerminateUserConnectionsLambdaFunction: {
    reads: ['GetItem', 'Query'],
    writes: ['UpdateItem', 'DeleteItem'],
    keys: [...CLEANUP_KEYS, 'rate#'],
    connections: ['POST', 'DELETE'],
  },
  // The webhook transitions' sequence.
  WebhookSenderLambdaFunction: {
    reads: ['GetItem'],
    writes: ['UpdateItem'],
    keys: ['webhook#'],
    connections: [],
  },
};

/** The `dynamodb:LeadingKeys` patterns of a statement's condition, if it has one. */
function leadingKeysOf(statement: Statement): string[] | undefined {
  const like = statement.Condition?.['ForAllValues:StringLike'] as Json | undefined;
  const keys = like?.['dynamodb:LeadingKeys'];
  return keys === undefined ? undefined : (list(keys) as string[]);
}

/** A CloudFront web ACL's ARN, as WAF gives it. */
const WEB_ACL_ARN =
  'arn:aws:wafv2:us-east-1:123456789012:global/webacl/pusher-rate/a1b2c3d4-5678-90ab-cdef-0123456789ab';
const GUARDED_THROTTLES = {
  httpApiThrottleRate: '40.5',
  httpApiThrottleBurst: '80',
  connectThrottleRate: '12',
  connectThrottleBurst: '30',
};

/** The functions that never post to or disconnect a WebSocket client; all others do. */
const NOT_POSTING = [
  'WsConnectAuthorizer',
  'HttpAuthorizer',
  'WsConnect',
  'HttpChannels',
  'HttpChannel',
  'HttpChannelUsers',
  'WebhookSender',
].map((name) => `${name}LambdaFunction`);

/**
 * What each function may do on the apps table: the authorizers resolve keys (Query on AppKeyIndex) and ids;
 * $default and the HTTP API routes only ids (the authorizer context or the path names the app); $connect (the
 * context also carries MaxConnections), the greeter, $disconnect, the fan-out worker and the connection sweeper
 * never read it.
 * Functions not listed get soketi's documented pair.
 */
const APPS_ACCESS: Record<string, ('GetItem' | 'Query')[]> = {
  WsConnectLambdaFunction: [],
  WsDefaultLambdaFunction: ['GetItem'],
  WsGreeterLambdaFunction: [],
  WsDisconnectLambdaFunction: [],
  FanOutWorkerLambdaFunction: [],
  ConnectionSweeperLambdaFunction: [],
  HttpEventsLambdaFunction: ['GetItem'],
  HttpBatchEventsLambdaFunction: ['GetItem'],
  HttpChannelsLambdaFunction: ['GetItem'],
  HttpChannelLambdaFunction: ['GetItem'],
  HttpChannelUsersLambdaFunction: ['GetItem'],
  HttpTerminateUserConnectionsLambdaFunction: ['GetItem'],
  WebhookSenderLambdaFunction: ['GetItem'],
};

function expectedAppsStatements(fn: string, table: string): { action: string[]; resource: string[] }[] {
  const access = APPS_ACCESS[fn] ?? ['GetItem', 'Query'];
  return access.map((action) => ({
    action: [`dynamodb:${action}`],
    resource: [action === 'GetItem' ? table : `${table}/index/AppKeyIndex`],
  }));
}

/** The file names in a zip, from its central directory. */
function zipEntries(zip: Buffer): string[] {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  const names: string[] = [];
  for (let entry = 0; entry < count; entry++) {
    const nameLength = zip.readUInt16LE(offset + 28);
    names.push(zip.toString('utf8', offset + 46, offset + 46 + nameLength));
    offset += 46 + nameLength + zip.readUInt16LE(offset + 30) + zip.readUInt16LE(offset + 32);
  }
  return names;
}

describe('serverless package', () => {
  let dist: string;
  let created: Packaged;
  let soketi: Packaged;
  /** With a web ACL and throttling of its own. */
  let guarded: Packaged;

  beforeAll(async () => {
    dist = await everyHandlerBuilt();
    [created, soketi, guarded] = await Promise.all([
      packageService(dist, {}),
      packageService(dist, {
        existingAppsTable: 'soketi-apps',
        appsTableRegion: 'eu-west-1',
        cloudFront: 'true',
        customDomain: 'pusher.example.com',
        certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/example',
      }),
      packageService(dist, { cloudFront: 'true', webAclArn: WEB_ACL_ARN, ...GUARDED_THROTTLES }),
    ]);
  }, 120_000);

  afterAll(async () => {
    for (const { outDir } of [created, soketi, guarded])
      await rm(join(outDir, '..'), { recursive: true, force: true });
    await rm(dist, { recursive: true, force: true });
  });

  it('matches the CloudFormation resource specification: default parameters, cloudFront=true with existingAppsTable, and with a web ACL', () => {
    expect(templateProblems(created.template)).toEqual([]);
    expect(templateProblems(soketi.template)).toEqual([]);
    expect(templateProblems(guarded.template)).toEqual([]);
  });

  it('the specification check fails on a misspelt property, a missing required one, a wrong type and a bad GetAtt', () => {
    const planted = structuredClone(created.template);
    const queue = planted.Resources.WebhookQueue!.Properties;
    queue.VisiblityTimeout = queue.VisibilityTimeout;
    delete queue.VisibilityTimeout;
    const sender = planted.Resources.WebhookSenderLambdaFunction!.Properties;
    delete sender.Role;
    sender.Timeout = 'thirty';
    queue.RedrivePolicy = {
      deadLetterTargetArn: { 'Fn::GetAtt': ['WebhookDeadLetterQueue', 'Url'] },
      maxReceiveCount: 5,
    };

    expect(templateProblems(planted).sort()).toEqual([
      'WebhookQueue.Properties.RedrivePolicy.deadLetterTargetArn: AWS::SQS::Queue has no attribute Url',
      'WebhookQueue.VisiblityTimeout: no such property',
      'WebhookSenderLambdaFunction.Role: required, missing',
      'WebhookSenderLambdaFunction.Timeout: expected an integer, got string "thirty"',
    ]);
  });

  it('declares one Lambda per planned handler, each running as its own role', () => {
    const functions = resourcesOfType(created.template, 'AWS::Lambda::Function');
    const roles = resourcesOfType(created.template, 'AWS::IAM::Role');

    expect(functions).toHaveLength(handlerNames.length);
    expect(new Set(functions.map(([, fn]) => JSON.stringify(fn.Properties.Role))).size).toBe(
      functions.length,
    );
    expect(roles.map(([id]) => id).sort()).toEqual(
      functions.map(([id]) => id.replace(/LambdaFunction$/, 'Role')).sort(),
    );
    for (const [, role] of roles) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('grants no wildcard action and no wildcard resource beyond log streams and connection ids', () => {
    for (const [fn, statements] of statementsByFunction(created.template)) {
      for (const statement of statements) {
        expect(statement.Effect, fn).toBe('Allow');
        for (const action of actionsOf(statement))
          expect(action, fn).toMatch(/^(logs|dynamodb|execute-api|lambda|sqs):[A-Za-z]+$/);
        for (const resource of resourceTexts(statement)) {
          expect(resource, fn).not.toBe('*');
          // A log group's Arn attribute ends in :* (Lambda names the streams at run time), and
          // @connections/* stands for connection ids; no other wildcard is allowed.
          if (resource.includes('*')) expect(resource, fn).toMatch(CONNECTIONS);
        }
      }
    }
  });

  it('lets each function write only to its own log group', () => {
    for (const [fn, statements] of statementsByFunction(created.template)) {
      const logs = simplified(statements).filter(({ action }) => action.some((a) => a.startsWith('logs:')));
      expect(logs, fn).toEqual([
        {
          action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resource: [`GetAtt:${fn.replace(/LambdaFunction$/, 'LogGroup')}.Arn`],
        },
      ]);
    }
  });

  it('gives every function at most GetItem on the apps table and Query on its AppKeyIndex, each only what it calls', () => {
    const table = tableArn('us-east-1', APPS_TABLE);
    for (const [fn, statements] of statementsByFunction(created.template)) {
      const onApps = simplified(statements).filter(({ resource }) => resource.some((r) => r.includes(table)));
      expect(onApps, fn).toEqual(expectedAppsStatements(fn, table));
    }
  });

  it('gives every state-table function exactly the reads, the writes, the key prefixes and the @connections methods its code calls; the read routes write only rate#', () => {
    const statements = statementsByFunction(created.template);
    expect([...statements.keys()].filter((fn) => STATE_ACCESS[fn] === undefined).sort()).toEqual([
      'HttpAuthorizerLambdaFunction',
      'WsConnectAuthorizerLambdaFunction',
    ]);
    for (const [fn, expected] of Object.entries(STATE_ACCESS)) {
      const granted = statements.get(fn) ?? [];
      const onState = granted.filter((statement) =>
        resourceTexts(statement).includes('GetAtt:StateTable.Arn'),
      );
      const writes = onState.filter((statement) => actionsOf(statement).some((a) => STATE_WRITES.has(a)));
      const reads = onState.filter((statement) => !writes.includes(statement));
      expect(reads.map(actionsOf), fn).toEqual([expected.reads.map((a) => `dynamodb:${a}`)]);
      expect(writes.map(actionsOf), fn).toEqual([expected.writes.map((a) => `dynamodb:${a}`)]);
      expect(
        writes.map((statement) => [...(leadingKeysOf(statement) ?? [])].sort()),
        fn,
      ).toEqual([expected.keys.map((key) => `${key}*`).sort()]);
      const manage = simplified(granted).filter(({ action }) =>
        action.includes('execute-api:ManageConnections'),
      );
      const methods = manage.flatMap(({ resource }) => resource.map((r) => CONNECTIONS.exec(r)?.[1]));
      expect(methods, fn).toEqual(expected.connections);
    }
  });

  it('scopes every state-table write of every function to key prefixes with dynamodb:LeadingKeys', () => {
    let writeStatements = 0;
    for (const [fn, statements] of statementsByFunction(created.template)) {
      for (const statement of statements) {
        if (!actionsOf(statement).some((a) => a.startsWith('dynamodb:') && !STATE_READS.has(a))) continue;
        writeStatements++;
        expect(resourceTexts(statement), fn).toEqual(['GetAtt:StateTable.Arn']);
        expect(Object.keys(statement.Condition ?? {}), fn).toEqual(['ForAllValues:StringLike']);
        expect(Object.keys(statement.Condition!['ForAllValues:StringLike'] as Json), fn).toEqual([
          'dynamodb:LeadingKeys',
        ]);
        const keys = leadingKeysOf(statement)!;
        expect(keys.length, fn).toBeGreaterThan(0);
        for (const key of keys) expect(key, fn).toMatch(/^[a-z]+#\*$/);
      }
    }
    expect(writeStatements).toBe(Object.keys(STATE_ACCESS).length);
  });

  it('lets some function write every key prefix the code builds (src/), and none the code never builds', async () => {
    const built = new Set<string>();
    for (const file of await readdir(join(ROOT, 'src'), { recursive: true })) {
      if (!file.endsWith('.ts')) continue;
      const source = await readFile(join(ROOT, 'src', file), 'utf8');
      // A key is built as `<prefix>#${...}` (src/state/keys.ts, the rate limiter's windows).
      for (const [, prefix] of source.matchAll(/`([a-z]+#)\$\{/g)) built.add(`${prefix}*`);
    }
    const granted = new Set(
      [...statementsByFunction(created.template).values()].flatMap((statements) =>
        statements.flatMap((statement) => leadingKeysOf(statement) ?? []),
      ),
    );
    expect(built.size).toBeGreaterThan(0);
    expect([...granted].sort()).toEqual([...built].sort());
  });

  it('lets the functions that raise webhook events only send to the webhook queue, and only the sender consume it; the publishing ones send to the fan-out queue, which only the worker consumes', () => {
    const PUBLISHING = ['WsDefault', 'HttpEvents', 'HttpBatchEvents'].map((name) => `${name}LambdaFunction`);
    const raising = [
      'WsDefault',
      'WsDisconnect',
      'FanOutWorker',
      'ConnectionSweeper',
      'HttpEvents',
      'HttpBatchEvents',
      'HttpTerminateUserConnections',
    ].map((name) => `${name}LambdaFunction`);
    for (const [fn, statements] of statementsByFunction(created.template)) {
      const sqs = simplified(statements).filter(({ action }) => action.some((a) => a.startsWith('sqs:')));
      if (fn === 'WebhookSenderLambdaFunction') {
        expect(sqs, fn).toEqual([
          {
            action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
            resource: ['GetAtt:WebhookQueue.Arn'],
          },
          {
            action: ['sqs:SendMessage'],
            resource: ['GetAtt:WebhookQueue.Arn', 'GetAtt:WebhookDeadLetterQueue.Arn'],
          },
        ]);
      } else {
        const expected = raising.includes(fn)
          ? [{ action: ['sqs:SendMessage'], resource: ['GetAtt:WebhookQueue.Arn'] }]
          : [];
        // Large channels' lanes go to the fan-out queue; only the worker consumes it, and sets aside in the
        // failure queue what it cannot finish.
        if (PUBLISHING.includes(fn)) {
          expected.push({ action: ['sqs:SendMessage'], resource: ['GetAtt:FanOutQueue.Arn'] });
        }
        if (fn === 'FanOutWorkerLambdaFunction') {
          expected.push(
            {
              action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
              resource: ['GetAtt:FanOutQueue.Arn'],
            },
            { action: ['sqs:SendMessage'], resource: ['GetAtt:FanOutFailureQueue.Arn'] },
          );
        }
        expect(sqs, fn).toEqual(expected);
      }
    }
  });

  it('feeds the sender from the webhook queue and the worker from the fan-out queue with partial batch failures, and redrives what they keep failing on', () => {
    const mappings = resourcesOfType(created.template, 'AWS::Lambda::EventSourceMapping');
    expect(mappings.map(([, mapping]) => mapping.Properties)).toEqual([
      expect.objectContaining({
        EventSourceArn: { 'Fn::GetAtt': ['FanOutQueue', 'Arn'] },
        FunctionName: { 'Fn::GetAtt': ['FanOutWorkerLambdaFunction', 'Arn'] },
        // One record an invocation: a lane's job runs alone, and the lanes side by side, ten at most.
        BatchSize: 1,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: 10 },
      }),
      expect.objectContaining({
        EventSourceArn: { 'Fn::GetAtt': ['WebhookQueue', 'Arn'] },
        FunctionName: { 'Fn::GetAtt': ['WebhookSenderLambdaFunction', 'Arn'] },
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      }),
    ]);
    const functionNamed = (name: string) =>
      resourcesOfType(created.template, 'AWS::Lambda::Function').find(([key]) => key === name)![1];
    const cases = [
      {
        queue: 'WebhookQueue',
        target: 'WebhookDeadLetterQueue',
        receives: 5,
        fn: 'WebhookSenderLambdaFunction',
      },
      // A record whose invocation crashed, timed out or was throttled comes back, its lane waiting for it.
      { queue: 'FanOutQueue', target: 'FanOutFailureQueue', receives: 5, fn: 'FanOutWorkerLambdaFunction' },
    ];
    for (const { queue, target, receives, fn } of cases) {
      const properties = created.template.Resources[queue]!.Properties;
      expect(properties.RedrivePolicy, queue).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': [target, 'Arn'] },
        maxReceiveCount: receives,
      });
      // AWS's advice for an SQS event source: a visibility timeout of at least six times the function's.
      expect(Number(properties.VisibilityTimeout), queue).toBeGreaterThanOrEqual(
        6 * Number(functionNamed(fn).Properties.Timeout),
      );
    }
  });

  it('routes every Pusher HTTP API endpoint to its Lambda, behind the HTTP authorizer', () => {
    const routes = resourcesOfType(created.template, 'AWS::ApiGatewayV2::Route')
      .map(([, route]) => route.Properties)
      .filter((properties) => String(properties.RouteKey).includes('/apps/'));
    expect(routes.map((properties) => properties.RouteKey).sort()).toEqual([
      'GET /apps/{appId}/channels',
      'GET /apps/{appId}/channels/{channelName}',
      'GET /apps/{appId}/channels/{channelName}/users',
      'POST /apps/{appId}/batch_events',
      'POST /apps/{appId}/events',
      'POST /apps/{appId}/users/{userId}/terminate_connections',
    ]);
    for (const properties of routes)
      expect(properties.AuthorizationType, String(properties.RouteKey)).toBe('CUSTOM');
  });

  it('never retries the asynchronously invoked greeter (a minute later the client has given up), and drops its events after a minute in the queue', () => {
    const configs = resourcesOfType(created.template, 'AWS::Lambda::EventInvokeConfig');
    expect(configs.map(([, config]) => config.Properties)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          FunctionName: { Ref: 'WsGreeterLambdaFunction' },
          MaximumRetryAttempts: 0,
          MaximumEventAgeInSeconds: 60,
        }),
        // The slot's next turn asks again; a retry, or a run held back past the next, would only overlap it.
        expect.objectContaining({
          FunctionName: { Ref: 'ConnectionSweeperLambdaFunction' },
          MaximumRetryAttempts: 0,
          MaximumEventAgeInSeconds: 60,
        }),
      ]),
    );
    expect(configs).toHaveLength(2);
  });

  it('runs the connection sweeper every minute on EventBridge, allowed to ask API Gateway about connections', () => {
    const rules = resourcesOfType(created.template, 'AWS::Events::Rule').map(([, rule]) => rule.Properties);
    expect(rules).toEqual([
      expect.objectContaining({
        ScheduleExpression: 'rate(1 minute)',
        State: 'ENABLED',
        Targets: [
          expect.objectContaining({ Arn: { 'Fn::GetAtt': ['ConnectionSweeperLambdaFunction', 'Arn'] } }),
        ],
      }),
    ]);
    const sweeper = statementsByFunction(created.template).get('ConnectionSweeperLambdaFunction')!;
    const manage = simplified(sweeper).find(({ action }) =>
      action.includes('execute-api:ManageConnections'),
    )!;
    expect(manage.resource.map((arn) => arn.split('/').slice(-3, -2)[0])).toEqual(['GET', 'POST']);
  });

  it('gives the fan-out worker a minute, so a lane of posts through a slow @connections API is not cut short, and a whole vCPU to post with', () => {
    const [, worker] = resourcesOfType(created.template, 'AWS::Lambda::Function').find(
      ([name]) => name === 'FanOutWorkerLambdaFunction',
    )!;
    expect(worker.Properties.Timeout).toBe(60);
    expect(worker.Properties.MemorySize).toBe(1769);
  });

  it('limits the authorizers to logs and the two apps-table reads', () => {
    const statements = statementsByFunction(created.template);
    for (const fn of ['WsConnectAuthorizerLambdaFunction', 'HttpAuthorizerLambdaFunction']) {
      expect(statements.get(fn)?.map(actionsOf), fn).toEqual([
        ['logs:CreateLogStream', 'logs:PutLogEvents'],
        ['dynamodb:GetItem'],
        ['dynamodb:Query'],
      ]);
    }
  });

  it('touches no other table, and on the state table only reads and writes items', () => {
    const itemActions = ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query'].map(
      (a) => `dynamodb:${a}`,
    );
    for (const [fn, statements] of statementsByFunction(created.template)) {
      for (const { action, resource } of simplified(statements)) {
        if (!action.some((a) => a.startsWith('dynamodb:'))) continue;
        const onApps = resource.every((r) => r.startsWith(tableArn('us-east-1', APPS_TABLE)));
        if (onApps) continue;
        expect(resource, fn).toEqual(['GetAtt:StateTable.Arn']);
        for (const a of action) expect(itemActions, fn).toContain(a);
      }
    }
  });

  it('lets only the posting functions manage connections, and only on this stage of the WebSocket API', () => {
    for (const [fn, statements] of statementsByFunction(created.template)) {
      const manage = simplified(statements).filter(({ action }) =>
        action.includes('execute-api:ManageConnections'),
      );
      expect(manage.length, fn).toBe(NOT_POSTING.includes(fn) ? 0 : 1);
      for (const { resource } of manage) for (const r of resource) expect(r, fn).toMatch(CONNECTIONS);
    }
  });

  it('lets only ws-connect invoke a Lambda (the greeter)', () => {
    const invokes: Record<string, string> = {
      WsConnectLambdaFunction: 'GetAtt:WsGreeterLambdaFunction.Arn',
    };
    for (const [fn, statements] of statementsByFunction(created.template)) {
      const invoke = simplified(statements).filter(({ action }) => action.includes('lambda:InvokeFunction'));
      const target = invokes[fn];
      expect(invoke, fn).toEqual(
        target === undefined ? [] : [{ action: ['lambda:InvokeFunction'], resource: [target] }],
      );
    }
  });

  it('makes the fan-out queues FIFO with high throughput, one lane a message group, failures kept 14 days', () => {
    const fifo = {
      FifoQueue: true,
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
      MaximumMessageSize: 262_144,
    };
    expect(created.template.Resources.FanOutQueue?.Properties).toMatchObject({
      ...fifo,
      MessageRetentionPeriod: 86_400,
      SqsManagedSseEnabled: true,
    });
    expect(created.template.Resources.FanOutFailureQueue?.Properties).toEqual({
      ...fifo,
      MessageRetentionPeriod: 1_209_600,
      SqsManagedSseEnabled: true,
    });
  });

  it('creates the apps table as src/apps/table-schema.ts defines it, keeps it when the stack goes, protects it from deletion and recovers it to any point in time', () => {
    const apps = created.template.Resources.AppsTable!;

    expect(apps.Properties).toEqual({
      ...appsTableDefinition(APPS_TABLE),
      DeletionProtectionEnabled: true,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    expect(apps.Condition).toBe('CreateAppsTable');
    expect(apps.DeletionPolicy).toBe('Retain');
    expect(created.template.Conditions.CreateAppsTable).toEqual({ 'Fn::Equals': ['', ''] });
  });

  it('creates the state table as src/state/table-schema.ts defines it, with TTL on expiresAt', () => {
    expect(created.template.Resources.StateTable!.Properties).toEqual({
      ...stateTableDefinition(STATE_TABLE),
      TimeToLiveSpecification: { AttributeName: STATE_TTL_ATTRIBUTE, Enabled: true },
    });
  });

  it('ships each function its own bundle and nothing else, on nodejs22.x arm64, with the table names', async () => {
    const artifacts = (await readdir(created.outDir)).filter((file) => file.endsWith('.zip'));
    expect(artifacts).toHaveLength(handlerNames.length);
    for (const [, fn] of resourcesOfType(created.template, 'AWS::Lambda::Function')) {
      const { Handler, Runtime, Architectures, Environment, Code } = fn.Properties as {
        Handler: string;
        Runtime: string;
        Architectures: string[];
        Environment: { Variables: Record<string, string> };
        Code: { S3Key: string };
      };
      const zip = await readFile(join(created.outDir, Code.S3Key.split('/').pop()!));
      expect(zipEntries(zip)).toEqual([Handler.replace(/\.handler$/, '.mjs')]);
      expect(Runtime).toBe('nodejs22.x');
      expect(Architectures).toEqual(['arm64']);
      expect(Environment.Variables).toMatchObject({ APP_MANAGER_DYNAMODB_TABLE: APPS_TABLE, STATE_TABLE });
      expect(Environment.Variables).not.toHaveProperty('APP_MANAGER_DYNAMODB_ENDPOINT');
    }
  });

  it("with existingAppsTable creates no apps table and points IAM and the functions at soketi's", () => {
    const table = tableArn('eu-west-1', 'soketi-apps');

    expect(soketi.template.Conditions.CreateAppsTable).toEqual({ 'Fn::Equals': ['soketi-apps', ''] });
    // The only table with recovery and deletion protection is the one that condition leaves out (the
    // owner's step for theirs: docs/deploy.md).
    const protectedTables = resourcesOfType(soketi.template, 'AWS::DynamoDB::Table').filter(
      ([, resource]) =>
        resource.Properties.DeletionProtectionEnabled !== undefined ||
        resource.Properties.PointInTimeRecoverySpecification !== undefined,
    );
    expect(protectedTables.map(([id, resource]) => [id, resource.Condition])).toEqual([
      ['AppsTable', 'CreateAppsTable'],
    ]);
    for (const [fn, statements] of statementsByFunction(soketi.template)) {
      const dynamo = simplified(statements).filter(({ action }) =>
        action.some((a) => a.startsWith('dynamodb:')),
      );
      const expected = expectedAppsStatements(fn, table);
      expect(dynamo.slice(0, expected.length), fn).toEqual(expected);
    }
    for (const [, fn] of resourcesOfType(soketi.template, 'AWS::Lambda::Function')) {
      expect((fn.Properties.Environment as { Variables: Json }).Variables).toMatchObject({
        APP_MANAGER_DYNAMODB_TABLE: 'soketi-apps',
        APP_MANAGER_DYNAMODB_REGION: 'eu-west-1',
      });
    }
  });

  it('with cloudFront deploys edge/rewrite-app-path.js verbatim in front of the WebSocket stage', async () => {
    const { Resources, Conditions } = soketi.template;
    const edge = Resources.EdgeRewriteFunction!.Properties as { FunctionCode: string; FunctionConfig: Json };
    const config = (Resources.Distribution!.Properties as { DistributionConfig: Json })
      .DistributionConfig as {
      Origins: { Id: string; OriginPath?: string; DomainName: Json }[];
      DefaultCacheBehavior: Json;
      CacheBehaviors: Json[];
      Aliases: Json;
    };

    expect(Conditions.EnableCloudFront).toEqual({ 'Fn::Equals': ['true', 'true'] });
    expect(edge.FunctionCode).toBe(await readFile(EDGE_FUNCTION_FILE, 'utf8'));
    expect(edge.FunctionConfig.Runtime).toBe('cloudfront-js-2.0');
    expect(config.DefaultCacheBehavior).toMatchObject({
      TargetOriginId: 'websocket-api',
      FunctionAssociations: [
        {
          EventType: 'viewer-request',
          FunctionARN: { 'Fn::GetAtt': ['EdgeRewriteFunction', 'FunctionARN'] },
        },
      ],
    });
    expect(config.Origins.find((origin) => origin.Id === 'websocket-api')).toMatchObject({
      OriginPath: `/${STAGE}`,
      DomainName: { 'Fn::Sub': `\${WebsocketsApi}.execute-api.\${AWS::Region}.amazonaws.com` },
    });
    expect(config.CacheBehaviors).toEqual([
      expect.objectContaining({ PathPattern: '/apps/*', TargetOriginId: 'http-api' }),
    ]);
    expect(config.Aliases).toEqual({
      'Fn::If': ['HasCustomDomain', ['pusher.example.com'], { Ref: 'AWS::NoValue' }],
    });
    expect(created.template.Conditions.EnableCloudFront).toEqual({ 'Fn::Equals': ['false', 'true'] });
  });
  it('throttles every HTTP API route at the stage, by default and as the stage parameters say', () => {
    const throttleOf = (template: Template) => {
      const stages = resourcesOfType(template, 'AWS::ApiGatewayV2::Stage').filter(
        ([, stage]) => JSON.stringify(stage.Properties.ApiId) === JSON.stringify({ Ref: 'HttpApi' }),
      );
      expect(stages.map(([, stage]) => stage.Properties.StageName)).toEqual(['$default']);
      return stages[0]![1].Properties.DefaultRouteSettings;
    };

    expect(throttleOf(created.template)).toEqual({ ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 500 });
    expect(throttleOf(guarded.template)).toEqual({
      ThrottlingRateLimit: Number(GUARDED_THROTTLES.httpApiThrottleRate),
      ThrottlingBurstLimit: Number(GUARDED_THROTTLES.httpApiThrottleBurst),
    });
  });

  it('throttles the WebSocket $connect route and nothing else of the WebSocket API: a throttled $default message would be a frame pusher-js throws on', () => {
    const settingsOf = (template: Template) => {
      const stages = resourcesOfType(template, 'AWS::ApiGatewayV2::Stage').filter(
        ([, stage]) => JSON.stringify(stage.Properties.ApiId) === JSON.stringify({ Ref: 'WebsocketsApi' }),
      );
      expect(stages.map(([, stage]) => stage.Properties.StageName)).toEqual([STAGE]);
      const { RouteSettings, DefaultRouteSettings } = stages[0]![1].Properties as {
        RouteSettings: Record<string, Json>;
        DefaultRouteSettings?: Json;
      };
      // Throttling of the stage's default settings would reach $default too.
      expect(Object.keys(DefaultRouteSettings ?? {}).filter((key) => key.startsWith('Throttling'))).toEqual(
        [],
      );
      return RouteSettings;
    };
    const routeKeys = resourcesOfType(created.template, 'AWS::ApiGatewayV2::Route')
      .filter(
        ([, route]) => JSON.stringify(route.Properties.ApiId) === JSON.stringify({ Ref: 'WebsocketsApi' }),
      )
      .map(([, route]) => route.Properties.RouteKey);

    expect(routeKeys.sort()).toEqual(['$connect', '$default', '$disconnect']);
    expect(settingsOf(created.template)).toEqual({
      $connect: { ThrottlingRateLimit: 250, ThrottlingBurstLimit: 500 },
    });
    expect(settingsOf(guarded.template)).toEqual({
      $connect: {
        ThrottlingRateLimit: Number(GUARDED_THROTTLES.connectThrottleRate),
        ThrottlingBurstLimit: Number(GUARDED_THROTTLES.connectThrottleBurst),
      },
    });
  });

  it('attaches the webAclArn web ACL to the CloudFront distribution, and none without it', () => {
    const webAclOf = (template: Template) =>
      (template.Resources.Distribution!.Properties.DistributionConfig as Json).WebACLId;

    expect(webAclOf(guarded.template)).toBe(WEB_ACL_ARN);
    expect(webAclOf(soketi.template)).toEqual({ Ref: 'AWS::NoValue' });
    for (const { template } of [created, soketi]) expect(JSON.stringify(template)).not.toContain('wafv2');
  });

  it('refuses a throttle that is not a positive rate or a whole burst, a web ACL that CloudFront cannot use, and a web ACL without CloudFront, naming the parameter', async () => {
    const regional = 'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/pusher-rate/a1b2c3d4';
    const refusals = await Promise.all([
      packagingRefusal({ httpApiThrottleRate: 'fast' }),
      packagingRefusal({ httpApiThrottleBurst: '0' }),
      packagingRefusal({ connectThrottleRate: '-5' }),
      packagingRefusal({ connectThrottleBurst: '2.5' }),
      packagingRefusal({ cloudFront: 'true', webAclArn: regional }),
      packagingRefusal({ webAclArn: WEB_ACL_ARN }),
    ]);

    expect(refusals[0]).toContain(
      'httpApiThrottleRate must be a number of requests per second above 0, got "fast"',
    );
    expect(refusals[1]).toContain(
      'httpApiThrottleBurst must be a whole number of requests, at least 1, got "0"',
    );
    expect(refusals[2]).toContain(
      'connectThrottleRate must be a number of requests per second above 0, got "-5"',
    );
    expect(refusals[3]).toContain(
      'connectThrottleBurst must be a whole number of requests, at least 1, got "2.5"',
    );
    expect(refusals[4]).toContain(`webAclArn must be the ARN of a WAF web ACL of scope CLOUDFRONT`);
    expect(refusals[4]).toContain(`got "${regional}"`);
    expect(refusals[5]).toContain(
      'webAclArn is attached to the CloudFront distribution: it needs cloudFront=true',
    );
  }, 90_000);
});
