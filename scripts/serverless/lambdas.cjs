// The Lambdas of serverless.yml: each handler, its routes and its least-privilege IAM role, in one table.
// Each function gets its own role: CloudWatch Logs for its own log group, and the `access` listed below,
// nothing else.
//
// Loaded by serverless.yml through `${file(...)}` (osls requires CommonJS here).
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const ROOT = join(__dirname, '..', '..');

// Permissions, each a function of the stage's resources (see `resourcesOf`) returning IAM statements.

/** soketi's documented policy: GetItem by AppId on the table, Query by AppKey on the index; nothing else. */
const readApps = ({ appsTableArn, appKeyIndexArn }) => [
  allow('dynamodb:GetItem', appsTableArn),
  allow('dynamodb:Query', appKeyIndexArn),
];

/** GetItem by AppId only: `$default` has the app id from its authorizer context, HTTP routes from a path. */
const readAppsById = ({ appsTableArn }) => [allow('dynamodb:GetItem', appsTableArn)];

/**
 * The state table's `pk` prefixes: each kind of item owns one (src/state/keys.ts; the rate limiter's windows,
 * src/limits/token-lease.ts). `connection#*` and `connections#*` (like `channel#*` and `channels#*`) never
 * match each other's keys.
 */
const KEYS = {
  connection: 'connection#', // a connection's record (src/state/connections.ts)
  channel: 'channel#', // a channel's subscribers and presence members (src/state/channels.ts)
  channelIndex: 'channels#', // the app's channel index and its counts (src/state/channels.ts)
  user: 'user#', // the connections signed in as a user (src/state/users.ts)
  counter: 'connections#', // the app's MaxConnections counter (src/state/connection-counter.ts)
  sweep: 'sweep#', // the connections the sweeper asks about (src/state/sweep-entries.ts)
  webhook: 'webhook#', // the webhook transitions' sequence (src/state/webhook-transitions.ts)
  rate: 'rate#', // the rate limiter's windows (src/limits/token-lease.ts)
  cache: 'cache#', // a cache channel's last event (src/state/channel-cache.ts)
};

/**
 * What `cleanUpConnections` (src/cleanup/cleanup.ts) writes for a connection that is gone: its record, its
 * subscriber and member items, the channel index counts, its user entry and its MaxConnections slot. Never
 * its sweep entry: only the sweeper removes those. Its reads: `Query` of a channel, and `GetItem` of a member
 * when a leave races a join (`leavePresence`).
 */
const CLEANUP_KEYS = [KEYS.connection, KEYS.channel, KEYS.channelIndex, KEYS.user, KEYS.counter];

const dynamodb = (actions) => actions.map((action) => `dynamodb:${action}`);

/** State-table reads (`GetItem`, `Query`), on any key. */
const readState =
  (...actions) =>
  ({ stateTableArn }) => [allow(dynamodb(actions), stateTableArn)];

/**
 * State-table writes, only on items whose `pk` starts with one of `keys` (`dynamodb:LeadingKeys`): a function
 * tricked into writing elsewhere is refused by IAM. A key a function writes and this list lacks is refused
 * too, in production only (nothing checks IAM locally): the lists below follow each handler's code.
 */
const writeState =
  (actions, keys) =>
  ({ stateTableArn }) => [
    {
      ...allow(dynamodb(actions), stateTableArn),
      Condition: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...new Set(keys)].map((key) => `${key}*`) },
      },
    },
  ];

/** `execute-api:ManageConnections` on this stage's WebSocket API only, for the given @connections methods. */
const manageConnections =
  (...methods) =>
  ({ stage }) => [
    allow(
      'execute-api:ManageConnections',
      methods.map((method) => ({
        'Fn::Sub': `arn:\${AWS::Partition}:execute-api:\${AWS::Region}:\${AWS::AccountId}:\${WebsocketsApi}/${stage}/${method}/@connections/*`,
      })),
    ),
  ];

/** `sqs:SendMessage` on the webhook queue: the functions whose work raises webhook events. */
const enqueueWebhooks = ({ webhookQueueArn }) => [allow('sqs:SendMessage', webhookQueueArn)];

/** The most fan-out workers posting at once, over all channels (the event source's maximum concurrency). */
const FAN_OUT_WORKER_CONCURRENCY = 10;

/** Hand lanes of a large channel's fan-out to the worker (SendMessageBatch is authorized as SendMessage). */
const enqueueFanOut = ({ fanOutQueueArn }) => [allow('sqs:SendMessage', fanOutQueueArn)];

/**
 * The sender's own: consume the webhook queue (the event source mapping runs as the function's role), put
 * retries back into it, and write failures to the dead-letter queue.
 */
const consumeWebhooks = ({ webhookQueueArn, webhookDeadLetterQueueArn }) => [
  allow(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'], webhookQueueArn),
  allow('sqs:SendMessage', [webhookQueueArn, webhookDeadLetterQueueArn]),
];

/**
 * `lambda:InvokeFunction` on the functions the `webhookLambdaFunctions` stage parameter names (names or ARNs,
 * comma-separated, a trailing `*` for a prefix): none by default, so a table cannot make the stage invoke
 * what its owner did not allow.
 */
const invokeWebhookFunctions = ({ webhookLambdaFunctions }) => {
  if (webhookLambdaFunctions.length === 0) return [];
  return [
    allow(
      'lambda:InvokeFunction',
      webhookLambdaFunctions.map((name) =>
        name.startsWith('arn:')
          ? name
          : { 'Fn::Sub': `arn:\${AWS::Partition}:lambda:*:\${AWS::AccountId}:function:${name}` },
      ),
    ),
  ];
};

const invoke = (functionKey) => () => [
  allow('lambda:InvokeFunction', { 'Fn::GetAtt': [lambdaLogicalId(functionKey), 'Arn'] }),
];

/** Payload 2.0 REQUEST authorizer with simple responses (`{ isAuthorized, context }`). */
const HTTP_AUTHORIZER = {
  type: 'request',
  functionName: 'httpAuthorizer',
  payloadVersion: '2.0',
  enableSimpleResponses: true,
  // Every signed request is unique (auth_timestamp, auth_signature): a cache would only serve stale answers.
  resultTtlInSeconds: 0,
  // A source every signed request carries; without it API Gateway answers 401 before invoking anything.
  identitySource: ['$request.querystring.auth_signature'],
};

/**
 * Where posting functions reach @connections. Not derived from the event: behind CloudFront or a custom
 * domain, and under serverless offline, the request's domain is not the management API's.
 */
const postingEnvironment = ({ websocketApiEndpoint }) => ({ WEBSOCKET_API_ENDPOINT: websocketApiEndpoint });

/** Posting functions whose work raises webhook events also name the queue they go to. */
const raisingEnvironment = (resources) => ({
  ...postingEnvironment(resources),
  WEBHOOK_QUEUE_URL: resources.webhookQueueUrl,
});

/** How lost `$disconnect`s are found: `$connect` enters each connection where the sweeper will look. */
const sweepEnvironment = ({ sweep }) => ({
  CONNECTION_SWEEP_PERIOD_SECONDS: String(sweep.periodSeconds),
  GHOST_CONNECTION_BOUND_SECONDS: String(sweep.boundSeconds),
});

/** The ranges src/gateway/config.ts accepts, checked here so that a bad stage parameter fails the package. */
const SWEEP_RANGES = {
  connectionSweepPeriodSeconds: { key: 'periodSeconds', min: 1, max: 3_600 },
  ghostConnectionBoundSeconds: { key: 'boundSeconds', min: 3, max: 7_200 },
};

/**
 * EventBridge schedules in whole minutes. The local stack runs the sweeper on its own timer (serverless
 * offline would run a `schedule` event too, sweeping twice), so a local period may be seconds.
 */
function sweepSchedule({ sweep, stage }) {
  for (const [param, { key, min, max }] of Object.entries(SWEEP_RANGES)) {
    const value = sweep[key];
    if (!(Number.isFinite(value) && value >= min && value <= max)) {
      throw new Error(`${param} must be a number from ${min} to ${max}, got ${value}`);
    }
  }
  if (!(sweep.boundSeconds >= 3 * sweep.periodSeconds)) {
    throw new Error(
      `ghostConnectionBoundSeconds must be at least three sweep periods (${3 * sweep.periodSeconds}), got ${sweep.boundSeconds}`,
    );
  }
  if (stage === 'local') return [];
  const minutes = sweep.periodSeconds / 60;
  if (Number.isInteger(minutes)) {
    return [{ schedule: { rate: [`rate(${minutes} ${minutes === 1 ? 'minute' : 'minutes'})`] } }];
  }
  throw new Error(
    `connectionSweepPeriodSeconds must be a whole number of minutes (EventBridge), got ${sweep.periodSeconds}`,
  );
}

/**
 * What one connection may hold and how fast it may change it, in the ranges `$default` accepts
 * (src/gateway/config.ts): checked here, since a value it refused would fail every message at cold start.
 */
function connectionLimitsEnvironment({ connectionLimits }) {
  const { maxChannels, opsPerSecond, opsBurst } = connectionLimits;
  const inRange = (value, min, max, whole) =>
    value.trim() !== '' &&
    Number(value) >= min &&
    Number(value) <= max &&
    (!whole || Number.isInteger(Number(value)));
  const check = (param, ok, expected, value) => {
    if (!ok) throw new Error(`${param} must be ${expected}, got ${value}`);
  };
  check(
    'maxChannelsPerConnection',
    inRange(maxChannels, 1, 10_000, true),
    'a whole number from 1 to 10000',
    maxChannels,
  );
  check(
    'connectionOpsPerSecond',
    inRange(opsPerSecond, 0.01, 1_000, false) || Number(opsPerSecond) < 0,
    'a number from 0.01 to 1000, or negative for unlimited',
    opsPerSecond,
  );
  check('connectionOpsBurst', inRange(opsBurst, 1, 10_000, true), 'a whole number from 1 to 10000', opsBurst);
  return {
    MAX_CHANNELS_PER_CONNECTION: maxChannels,
    CONNECTION_OPS_PER_SECOND: opsPerSecond,
    CONNECTION_OPS_BURST: opsBurst,
  };
}

const WS_CONNECT_AUTHORIZER = {
  name: 'wsConnectAuthorizer',
  // API Gateway refuses a connection without ?appKey= before invoking anything.
  identitySource: ['route.request.querystring.appKey'],
};

const PUBLISH_ACCESS = [
  readAppsById,
  readState('GetItem', 'Query'),
  writeState(['UpdateItem', 'DeleteItem'], [KEYS.rate, KEYS.cache, ...CLEANUP_KEYS]),
  manageConnections('POST'),
  enqueueWebhooks,
  enqueueFanOut,
];

/** The publishing routes also name the fan-out queue they hand large channels to. */
const publishingEnvironment = (resources) => ({
  ...raisingEnvironment(resources),
  FAN_OUT_QUEUE_URL: resources.fanOutQueueUrl,
});
const READ_ACCESS = [readAppsById, readState('GetItem', 'Query'), writeState(['UpdateItem'], [KEYS.rate])];

/**
 * Every Lambda. `handler` names handlers/<handler>.ts; state-table actions are what each handler's code
 * calls (connection records, counters, subscriptions, rate-limit windows).
 */
const CATALOG = {
  wsConnectAuthorizer: { handler: 'ws-connect-authorizer', access: [readApps] },
  httpAuthorizer: { handler: 'http-authorizer', access: [readApps] },
  // State-table actions below are exactly what src/state calls on each path (see docs/websocket-protocol.md, DynamoDB calls per operation).
  wsConnect: {
    handler: 'ws-connect',
    events: [{ websocket: { route: '$connect', authorizer: WS_CONNECT_AUTHORIZER } }],
    environment: (resources) => ({
      GREETER_FUNCTION_NAME: `${resources.functionNamePrefix}wsGreeter`,
      ...sweepEnvironment(resources),
    }),
    // Never reads the apps table: the authorizer context carries the app id and MaxConnections. Counter
    // (UpdateItem, GetItem and PutItem when it is created or rotated), connection record and sweep entry
    // (PutItem), the record undone with DeleteItem and the count released when the greeter cannot be invoked.
    access: [
      readState('GetItem'),
      writeState(['PutItem', 'UpdateItem', 'DeleteItem'], [KEYS.counter, KEYS.connection, KEYS.sweep]),
      invoke('wsGreeter'),
    ],
  },
  // Invoked asynchronously by wsConnect: posts pusher:connection_established, or pusher:error and disconnects;
  // cleans up a connection that never opened. It never reads the apps table.
  wsGreeter: {
    handler: 'ws-greeter',
    environment: postingEnvironment,
    // A retry, or an event throttled for minutes in the queue, would greet a client that gave up long ago.
    settings: { maximumRetryAttempts: 0, maximumEventAge: 60 },
    // Writes only to clean up the connection it could not greet.
    access: [
      readState('GetItem', 'Query'),
      writeState(['UpdateItem', 'DeleteItem'], CLEANUP_KEYS),
      manageConnections('POST', 'DELETE'),
    ],
  },
  wsDefault: {
    handler: 'ws-default',
    // With a $default route response, what the handler returns (pusher:pong, ...) goes back to the sender.
    events: [{ websocket: { route: '$default', routeResponseSelectionExpression: '$default' } }],
    environment: (resources) => ({
      ...raisingEnvironment(resources),
      ...connectionLimitsEnvironment(resources),
      // Client events to a large channel go out as a publish does: in lanes, through the worker.
      FAN_OUT_QUEUE_URL: resources.fanOutQueueUrl,
    }),
    // Subscribe and unsubscribe: the connection's channel set, the channel's subscriber and member items, the
    // channel index; on a cache channel, the miss marker. Signin: the connection's user and the user entry.
    // Client events: their rate window.
    // Connections found gone while posting: cleaned up (which adds the MaxConnections counter).
    access: [
      readAppsById,
      readState('GetItem', 'Query'),
      writeState(
        ['PutItem', 'UpdateItem', 'DeleteItem'],
        [KEYS.connection, KEYS.channel, KEYS.channelIndex, KEYS.user, KEYS.rate, KEYS.cache, ...CLEANUP_KEYS],
      ),
      manageConnections('POST', 'DELETE'),
      enqueueWebhooks,
      enqueueFanOut,
    ],
  },
  // Cleanup only: the connection record says which app, channels and user; member_removed is posted.
  wsDisconnect: {
    handler: 'ws-disconnect',
    events: [{ websocket: { route: '$disconnect' } }],
    environment: raisingEnvironment,
    access: [
      readState('GetItem', 'Query'),
      writeState(['UpdateItem', 'DeleteItem'], CLEANUP_KEYS),
      manageConnections('POST'),
      enqueueWebhooks,
    ],
  },
  // The Pusher HTTP API: one Lambda per route, each bundling only its route's handler (src/http-api/route.ts
  // with publish-route.ts, channel-query-route.ts or terminate-route.ts), so that each role holds only what
  // its route calls. Every route resolves its app by id (the path names it) and consumes its rate window
  // (UpdateItem on `rate#`); publishing reads subscribers (Query) and counts (GetItem, for `info`), posts, and
  // cleans up connections found gone (CLEANUP_KEYS, POST for member_removed).
  httpEvents: httpRoute('http-events', 'POST /apps/{appId}/events', PUBLISH_ACCESS, publishingEnvironment),
  httpBatchEvents: httpRoute(
    'http-batch-events',
    'POST /apps/{appId}/batch_events',
    PUBLISH_ACCESS,
    publishingEnvironment,
  ),
  // Reads the fan-out queue (FIFO, a message group per lane of a large channel, so each lane's events run in
  // the order they were published): one record per invocation, a lane's subscribers read page by page
  // (Query), posted, and what was found gone cleaned up; cleanup jobs from the routes. A minute: a lane of
  // 10,000 subscribers through a slow or throttling @connections API must not be cut short. A job it cannot
  // finish goes to the fan-out failure queue (the queue's dead-letter queue) with why, and where to resume.
  fanOutWorker: {
    handler: 'fan-out-worker',
    events: ({ fanOutQueueArn }) => [
      {
        sqs: {
          arn: fanOutQueueArn,
          batchSize: 1,
          functionResponseType: 'ReportBatchItemFailures',
          // Ten workers at ~1,500 posts a second reach the account's 10,000 API Gateway requests a second.
          // The event source's own cap: reserved concurrency would throttle invocations it already received.
          maximumConcurrency: FAN_OUT_WORKER_CONCURRENCY,
        },
      },
    ],
    environment: (resources) => ({
      ...raisingEnvironment(resources),
      FAN_OUT_FAILURE_QUEUE_URL: resources.fanOutFailureQueueUrl,
    }),
    // One vCPU (1,769 MB): posting is CPU-bound (~0.6 ms a post), so a lane posts ~3.5× faster than at 512 MB
    // for the same GB-seconds, and ten lanes reach the account's 10,000 posts a second.
    settings: { timeout: 60, memorySize: 1769 },
    access: [
      readState('GetItem', 'Query'),
      writeState(['UpdateItem', 'DeleteItem'], CLEANUP_KEYS),
      manageConnections('POST'),
      enqueueWebhooks,
      ({ fanOutQueueArn, fanOutFailureQueueArn }) => [
        allow(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'], fanOutQueueArn),
        allow('sqs:SendMessage', fanOutFailureQueueArn),
      ],
    ],
  },
  // Scheduled: asks API Gateway about the connections of one sweep slot (GET @connections), cleans up those
  // it no longer has as $disconnect would (DeleteItem, UpdateItem, Query, POST member_removed) and drops
  // their entries. A minute: a slot of thousands of connections, 16 asked at once. Never retried: the
  // slot's next turn asks again.
  connectionSweeper: {
    handler: 'connection-sweeper',
    events: sweepSchedule,
    environment: (resources) => ({ ...raisingEnvironment(resources), ...sweepEnvironment(resources) }),
    settings: { maximumRetryAttempts: 0, maximumEventAge: 60, timeout: 60 },
    // Cleans up as $disconnect does, and deletes the sweep entries of the connections it cleaned up.
    access: [
      readState('GetItem', 'Query'),
      writeState(['UpdateItem', 'DeleteItem'], [...CLEANUP_KEYS, KEYS.sweep]),
      manageConnections('GET', 'POST'),
      enqueueWebhooks,
    ],
  },
  // Consumes the webhook queue: each app resolved by id (no secret travels in a message), transitions
  // sequenced on their state-table records (UpdateItem, GetItem), bodies posted or functions invoked, retries
  // and failures enqueued. 30 s: ten bodies at once, each given at most 10 s.
  webhookSender: {
    handler: 'webhook-sender',
    // With batching (soketi's WEBHOOKS_BATCHING), SQS gathers up to a second of messages per invocation, so
    // the events of several operations share a body; without, each record goes as it comes.
    events: ({ webhookQueueArn, webhooksBatching }) => [
      {
        sqs: {
          arn: webhookQueueArn,
          batchSize: 10,
          maximumBatchingWindow: webhooksBatching === 'true' ? 1 : 0,
          functionResponseType: 'ReportBatchItemFailures',
        },
      },
    ],
    environment: (resources) => ({
      WEBHOOK_QUEUE_URL: resources.webhookQueueUrl,
      WEBHOOK_DEAD_LETTER_QUEUE_URL: resources.webhookDeadLetterQueueUrl,
      WEBHOOKS_BATCHING: resources.webhooksBatching,
      WEBHOOKS_RETRY_BUDGET_SECONDS: resources.webhookRetryBudgetSeconds,
      WEBHOOKS_ALLOW_PRIVATE_URLS: resources.allowPrivateWebhookUrls,
      WEBHOOKS_LAMBDA_FUNCTIONS: resources.webhookLambdaFunctions.join(','),
      WEBHOOKS_LAMBDA_ENDPOINTS: resources.webhookLambdaEndpoints,
    }),
    settings: { timeout: 30 },
    // Its only state-table items are the transition records.
    access: [
      readAppsById,
      readState('GetItem'),
      writeState(['UpdateItem'], [KEYS.webhook]),
      consumeWebhooks,
      invokeWebhookFunctions,
    ],
  },
  // Read the channel index (Query, GetItem) and a presence channel's members (Query); never post. Their one
  // write is their rate window: a read route may write nothing but `rate#`.
  httpChannels: httpRoute('http-channels', 'GET /apps/{appId}/channels', READ_ACCESS),
  httpChannel: httpRoute('http-channel', 'GET /apps/{appId}/channels/{channelName}', READ_ACCESS),
  httpChannelUsers: httpRoute(
    'http-channel-users',
    'GET /apps/{appId}/channels/{channelName}/users',
    READ_ACCESS,
  ),
  // The user's connections (Query), each told and closed (POST, DELETE), their state removed at once
  // (CLEANUP_KEYS), and its rate window.
  httpTerminateUserConnections: httpRoute(
    'http-terminate-user-connections',
    'POST /apps/{appId}/users/{userId}/terminate_connections',
    [
      readAppsById,
      readState('GetItem', 'Query'),
      writeState(['UpdateItem', 'DeleteItem'], [KEYS.rate, ...CLEANUP_KEYS]),
      manageConnections('POST', 'DELETE'),
      enqueueWebhooks,
    ],
    raisingEnvironment,
  ),
};

/**
 * A Pusher HTTP API route behind the HTTP authorizer (optional: the route middleware verifies every request
 * again). All get the @connections endpoint, which the read routes, never posting, do not read.
 */
function httpRoute(handler, route, access, environment = postingEnvironment) {
  const [method, path] = route.split(' ');
  return {
    handler,
    events: [{ httpApi: { method, path, authorizer: { name: 'httpAuthorizer' } } }],
    environment,
    access,
  };
}

function allow(actions, resources) {
  return { Effect: 'Allow', Action: actions, Resource: resources };
}

/** serverless's logical id for a function key: wsConnect → WsConnect. */
function normalized(functionKey) {
  return functionKey[0].toUpperCase() + functionKey.slice(1);
}

function lambdaLogicalId(functionKey) {
  return `${normalized(functionKey)}LambdaFunction`;
}

function roleLogicalId(functionKey) {
  return `${normalized(functionKey)}Role`;
}

async function resourcesOf(resolveVariable) {
  const [service, stage, appsTable, appsTableRegion, websocketApiEndpoint, queueUrls, webhookSettings] =
    await Promise.all([
      resolveVariable('self:service'),
      resolveVariable('sls:stage'),
      resolveVariable('self:custom.appsTableName'),
      resolveVariable('self:custom.appsTableRegion'),
      resolveVariable('param:websocketApiEndpoint, null'),
      Promise.all([
        resolveVariable('param:webhookQueueUrl, null'),
        resolveVariable('param:webhookDeadLetterQueueUrl, null'),
        resolveVariable('param:fanOutQueueUrl, null'),
        resolveVariable('param:fanOutFailureQueueUrl, null'),
      ]),
      Promise.all([
        resolveVariable('param:webhooksBatching, "false"'),
        resolveVariable('param:webhookRetryBudgetSeconds, "270"'),
        resolveVariable('param:allowPrivateWebhookUrls, "false"'),
        resolveVariable('param:webhookLambdaFunctions, ""'),
        resolveVariable('param:webhookLambdaEndpoints, "false"'),
      ]),
    ]);
  const [sweepPeriod, ghostBound, maxChannels, opsPerSecond, opsBurst] = await Promise.all([
    resolveVariable('param:connectionSweepPeriodSeconds, "60"'),
    resolveVariable('param:ghostConnectionBoundSeconds, "300"'),
    resolveVariable('param:maxChannelsPerConnection, "100"'),
    resolveVariable('param:connectionOpsPerSecond, "10"'),
    resolveVariable('param:connectionOpsBurst, "100"'),
  ]);
  const [webhookQueueUrl, webhookDeadLetterQueueUrl, fanOutQueueUrl, fanOutFailureQueueUrl] = queueUrls;
  const [batching, budget, allowPrivate, lambdaFunctions, lambdaEndpoints] = webhookSettings;
  const appsTableArn = `arn:\${AWS::Partition}:dynamodb:${appsTableRegion}:\${AWS::AccountId}:table/${appsTable}`;
  return {
    stage,
    // serverless's default function names, as the Lambda API (and serverless-offline's) knows them.
    functionNamePrefix: `${service}-${stage}-`,
    appsTableArn: { 'Fn::Sub': appsTableArn },
    appKeyIndexArn: { 'Fn::Sub': `${appsTableArn}/index/AppKeyIndex` },
    stateTableArn: { 'Fn::GetAtt': ['StateTable', 'Arn'] },
    // The local stack points the HTTP routes at serverless-offline's WebSocket port instead.
    websocketApiEndpoint: websocketApiEndpoint ?? {
      'Fn::Sub': `https://\${WebsocketsApi}.execute-api.\${AWS::Region}.amazonaws.com/${stage}`,
    },
    // The local stack names the emulator's queues instead.
    webhookQueueUrl: webhookQueueUrl ?? { Ref: 'WebhookQueue' },
    webhookDeadLetterQueueUrl: webhookDeadLetterQueueUrl ?? { Ref: 'WebhookDeadLetterQueue' },
    webhookQueueArn: { 'Fn::GetAtt': ['WebhookQueue', 'Arn'] },
    fanOutQueueUrl: fanOutQueueUrl ?? { Ref: 'FanOutQueue' },
    fanOutFailureQueueUrl: fanOutFailureQueueUrl ?? { Ref: 'FanOutFailureQueue' },
    fanOutQueueArn: { 'Fn::GetAtt': ['FanOutQueue', 'Arn'] },
    fanOutFailureQueueArn: { 'Fn::GetAtt': ['FanOutFailureQueue', 'Arn'] },
    webhookDeadLetterQueueArn: { 'Fn::GetAtt': ['WebhookDeadLetterQueue', 'Arn'] },
    webhooksBatching: String(batching),
    webhookRetryBudgetSeconds: String(budget),
    allowPrivateWebhookUrls: String(allowPrivate),
    webhookLambdaFunctions: String(lambdaFunctions)
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== ''),
    webhookLambdaEndpoints: String(lambdaEndpoints),
    sweep: { periodSeconds: Number(sweepPeriod), boundSeconds: Number(ghostBound) },
    connectionLimits: {
      maxChannels: String(maxChannels),
      opsPerSecond: String(opsPerSecond),
      opsBurst: String(opsBurst),
    },
  };
}

/** serverless.yml `functions`. */
async function functions({ resolveVariable }) {
  const resources = await resourcesOf(resolveVariable);
  return Object.fromEntries(
    Object.keys(CATALOG).map((key) => {
      const spec = CATALOG[key];
      const bundle = `dist/${spec.handler}/index`;
      return [
        key,
        {
          handler: `${bundle}.handler`,
          role: roleLogicalId(key),
          package: { patterns: [`${bundle}.mjs`] },
          ...(spec.events && {
            events: typeof spec.events === 'function' ? spec.events(resources) : spec.events,
          }),
          ...(spec.environment && { environment: spec.environment(resources) }),
          ...(typeof spec.settings === 'function' ? spec.settings(resources) : spec.settings),
        },
      ];
    }),
  );
}

/** serverless.yml `resources` entry: one role per function. */
async function roles({ resolveVariable }) {
  const resources = await resourcesOf(resolveVariable);
  return {
    Resources: Object.fromEntries(
      Object.keys(CATALOG).map((key) => [
        roleLogicalId(key),
        {
          Type: 'AWS::IAM::Role',
          Properties: {
            AssumeRolePolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
              ],
            },
            Policies: [
              {
                PolicyName: key,
                PolicyDocument: {
                  Version: '2012-10-17',
                  Statement: [
                    // The log group serverless creates for the function; its ARN ends in :* so that the
                    // streams Lambda creates at run time are covered.
                    allow(['logs:CreateLogStream', 'logs:PutLogEvents'], {
                      'Fn::GetAtt': [`${normalized(key)}LogGroup`, 'Arn'],
                    }),
                    ...CATALOG[key].access.flatMap((permission) => permission(resources)),
                  ],
                },
              },
            ],
          },
        },
      ]),
    ),
  };
}

/** serverless.yml `provider.httpApi.authorizers`. */
const httpApiAuthorizers = { httpAuthorizer: HTTP_AUTHORIZER };

/** The CloudFront Function's source, verbatim (a `${file()}` of a .js file would require() it instead). */
function edgeFunctionCode() {
  return readFileSync(join(ROOT, 'edge', 'rewrite-app-path.js'), 'utf8');
}

/** Every handler's file name (handlers/<name>.ts), for the tests that check the catalog against them. */
const handlerNames = Object.values(CATALOG).map((spec) => spec.handler);

module.exports = { functions, roles, httpApiAuthorizers, edgeFunctionCode, handlerNames };
