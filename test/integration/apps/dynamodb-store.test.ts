import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNLIMITED } from '../../../src/apps/app.js';
import { createAppStoreClient } from '../../../src/apps/client.js';
import { DynamoDbAppStore } from '../../../src/apps/dynamodb-store.js';
import { DEFAULT_APP_LIMITS, loadConfig } from '../../../src/config/config.js';
import {
  DuplicateAppKeyError,
  InvalidAppItemError,
  StoreUnavailableError,
} from '../../../src/errors/errors.js';
import { type AppsTestTable, appsTestTable } from '../../fixtures/apps/apps-table.js';
import { appItem, bytes, SEED_EXAMPLE_APP, SEED_EXAMPLE_ITEM } from '../../fixtures/apps/items.js';
import { rejectionOf } from '../../fixtures/apps/rejection.js';
import {
  type AwsFault,
  type AwsJsonProxy,
  closedPortEndpoint,
  DYNAMODB_FAULTS,
  startDynamoDbProxy,
} from '../../support/aws-json-proxy.js';
import { dynamodbEndpoint, testClient } from '../../support/dynamodb.js';
import { recordingLogger } from '../../support/recording-logger.js';

let table: AppsTestTable;
let store: DynamoDbAppStore;
const logger = recordingLogger();

const BOOLEAN_FIELDS = [
  ['Enabled', 'enabled'],
  ['EnableClientMessages', 'enableClientMessages'],
  ['EnableUserAuthentication', 'enableUserAuthentication'],
] as const;

/** Each encoding a table may hold, and what it must mean; `undefined` means the field's default. */
const BOOLEAN_ENCODINGS: readonly (readonly [string, AttributeValue | undefined, boolean | undefined])[] = [
  ['BOOL true', { BOOL: true }, true],
  ['BOOL false', { BOOL: false }, false],
  ['B bytes "true" (SDK)', bytes('true'), true],
  ['B bytes "false" (SDK)', bytes('false'), false],
  ['B bytes of base64 ZmFsc2U= (AWS CLI)', { B: Buffer.from('ZmFsc2U=', 'base64') }, false],
  ['B bytes "1"', bytes('1'), true],
  ['B bytes "0"', bytes('0'), false],
  ['S "true"', { S: 'true' }, true],
  ['S "false"', { S: 'false' }, false],
  ['N 1', { N: '1' }, true],
  ['N 0', { N: '0' }, false],
  ['missing', undefined, undefined],
];

const REJECTED_BOOLEANS: readonly (readonly [string, AttributeValue])[] = [
  ['B bytes of base64 "true" (AWS CLI given {"B":"true"})', { B: Buffer.from('true', 'base64') }],
  ['B bytes "maybe"', bytes('maybe')],
  ['S "enabled"', { S: 'enabled' }],
  ['N 7', { N: '7' }],
  ['L', { L: [{ BOOL: true }] }],
];

beforeAll(async () => {
  table = await appsTestTable('store');
  store = new DynamoDbAppStore({ client: table.client, tableName: table.name, logger });
  const booleanItems = BOOLEAN_FIELDS.flatMap(([attribute]) => [
    ...BOOLEAN_ENCODINGS.map(([name, value]) =>
      appItem(`bool ${attribute} ${name}`, value === undefined ? {} : { [attribute]: value }),
    ),
    ...REJECTED_BOOLEANS.map(([name, value]) => appItem(`bool ${attribute} ${name}`, { [attribute]: value })),
  ]);
  await table.put(SEED_EXAMPLE_ITEM, ...booleanItems);
});

afterAll(async () => {
  await table.drop();
});

describe('DynamoDbAppStore against dynalite', () => {
  it('finds an app by id with one GetItem and by key with one Query', async () => {
    table.calls.reset();
    expect(await store.findById('app-id')).toEqual(SEED_EXAMPLE_APP);
    expect(table.calls.count('GetItemCommand')).toBe(1);
    expect(await store.findByKey('app-key')).toEqual(SEED_EXAMPLE_APP);
    expect(table.calls.count('QueryCommand')).toBe(1);
    expect(table.calls.total()).toBe(2);
  });

  it('answers undefined for an id or key nobody has', async () => {
    expect(await store.findById('nobody')).toBeUndefined();
    expect(await store.findByKey('nobody')).toBeUndefined();
  });

  it('answers undefined for an impossible id or key without calling DynamoDB', async () => {
    table.calls.reset();
    for (const impossible of ['', 'x'.repeat(257), 'a\nb', 'tab\there']) {
      expect(await store.findById(impossible)).toBeUndefined();
      expect(await store.findByKey(impossible)).toBeUndefined();
    }
    expect(table.calls.total()).toBe(0);
  });

  it("reads the seed's example item, written through the SDK with B booleans as bytes", async () => {
    const app = await store.findById('app-id');
    expect(app).toEqual(SEED_EXAMPLE_APP);
    // The soketi trap: a B "false" must not read as truthy.
    expect(app?.enableClientMessages).toBe(false);
  });

  describe.each(BOOLEAN_FIELDS)('%s', (attribute, property) => {
    const fallback = property === 'enabled';
    it.each(BOOLEAN_ENCODINGS)('as %s', async (name, _, expected) => {
      const app = await store.findById(`bool ${attribute} ${name}`);
      expect(app?.[property]).toBe(expected ?? fallback);
    });
    it.each(REJECTED_BOOLEANS)('refuses %s, naming the field', async (name) => {
      const error = await rejectionOf(store.findById(`bool ${attribute} ${name}`));
      expect(error).toBeInstanceOf(InvalidAppItemError);
      expect((error as InvalidAppItemError).problems.map((p) => p.field)).toEqual([attribute]);
    });
  });

  describe('numbers', () => {
    const NUMBER_ATTRIBUTES = [
      'MaxConnections',
      'MaxBackendEventsPerSecond',
      'MaxClientEventsPerSecond',
      'MaxReadRequestsPerSecond',
      'MaxPresenceMembersPerChannel',
      'MaxPresenceMemberSizeInKb',
      'MaxChannelNameLength',
      'MaxEventChannelsAtOnce',
      'MaxEventNameLength',
      'MaxEventPayloadInKb',
      'MaxEventBatchSize',
    ];
    const everyNumber = (value: AttributeValue) =>
      Object.fromEntries(NUMBER_ATTRIBUTES.map((attribute) => [attribute, value]));
    const limits = (value: number) => ({
      maxPresenceMembersPerChannel: value,
      maxPresenceMemberSizeInKb: value,
      maxChannelNameLength: value,
      maxEventChannelsAtOnce: value,
      maxEventNameLength: value,
      maxEventPayloadInKb: value,
      maxEventBatchSize: value,
    });

    beforeAll(async () => {
      await table.put(
        appItem('numbers negative', everyNumber({ N: '-1' })),
        appItem('numbers very negative', everyNumber({ N: '-250' })),
        appItem('numbers zero', everyNumber({ N: '0' })),
        appItem('numbers absent'),
        appItem('numbers as strings', everyNumber({ S: '12' })),
        appItem('numbers fractional', everyNumber({ N: '2.5' })),
      );
    });

    it.each(['negative', 'very negative'])('reads every %s number as unlimited', async (name) => {
      expect(await store.findById(`numbers ${name}`)).toMatchObject({
        maxConnections: UNLIMITED,
        maxBackendEventsPerSecond: UNLIMITED,
        maxClientEventsPerSecond: UNLIMITED,
        maxReadRequestsPerSecond: UNLIMITED,
        ...limits(UNLIMITED),
      });
    });

    it('reads 0 as nothing allowed, except MaxConnections where it is unlimited', async () => {
      expect(await store.findById('numbers zero')).toMatchObject({
        maxConnections: UNLIMITED,
        maxBackendEventsPerSecond: 0,
        maxClientEventsPerSecond: 0,
        maxReadRequestsPerSecond: 0,
        ...limits(0),
      });
    });

    it('reads absent rates as unlimited and absent limits as the server defaults', async () => {
      expect(await store.findById('numbers absent')).toMatchObject({
        maxConnections: UNLIMITED,
        maxBackendEventsPerSecond: UNLIMITED,
        maxClientEventsPerSecond: UNLIMITED,
        maxReadRequestsPerSecond: UNLIMITED,
        ...DEFAULT_APP_LIMITS,
      });
    });

    it('reads numeric strings', async () => {
      expect(await store.findById('numbers as strings')).toMatchObject({ maxConnections: 12, ...limits(12) });
    });

    it('refuses fractions for every field but the two sizes in KB', async () => {
      const error = await rejectionOf(store.findById('numbers fractional'));
      expect((error as InvalidAppItemError).problems.map((p) => p.field)).toEqual(
        NUMBER_ATTRIBUTES.filter((attribute) => !attribute.endsWith('InKb')),
      );
    });

    it('takes server defaults from the environment for absent limits only', async () => {
      const { appLimitDefaults } = loadConfig({
        PRESENCE_MAX_MEMBERS: '7',
        SOKETI_PRESENCE_MAX_MEMBER_SIZE: '0.5',
        CHANNEL_LIMITS_MAX_NAME_LENGTH: '64',
        EVENT_MAX_CHANNELS_AT_ONCE: '-1',
        EVENT_MAX_NAME_LENGTH: '50',
        EVENT_MAX_SIZE_IN_KB: '10',
        EVENT_MAX_BATCH_SIZE: '3',
      });
      const withEnvDefaults = new DynamoDbAppStore({
        client: table.client,
        tableName: table.name,
        limitDefaults: appLimitDefaults,
      });
      expect(await withEnvDefaults.findById('numbers absent')).toMatchObject({
        maxPresenceMembersPerChannel: 7,
        maxPresenceMemberSizeInKb: 0.5,
        maxChannelNameLength: 64,
        maxEventChannelsAtOnce: UNLIMITED,
        maxEventNameLength: 50,
        maxEventPayloadInKb: 10,
        maxEventBatchSize: 3,
      });
      expect(await withEnvDefaults.findById('numbers as strings')).toMatchObject(limits(12));
    });
  });

  describe('Webhooks', () => {
    const hooks = [
      {
        url: 'https://hooks.example/pusher',
        event_types: ['channel_occupied', 'member_added'],
        filter: { channel_name_starts_with: 'presence-' },
        headers: { 'X-Token': 'abc' },
      },
      { lambda_function: 'webhook-fn', lambda: { async: true }, event_types: ['client_event'] },
    ];

    beforeAll(async () => {
      await table.put(
        appItem('webhooks good', { Webhooks: { S: JSON.stringify(hooks) } }),
        appItem('webhooks bad', {
          Webhooks: { S: JSON.stringify([hooks[0], { url: 'https://x.example' }]) },
        }),
        appItem('webhooks not json', { Webhooks: { S: '[{"url":' } }),
      );
    });

    it('reads good webhooks', async () => {
      expect((await store.findById('webhooks good'))?.webhooks).toEqual([
        {
          url: 'https://hooks.example/pusher',
          eventTypes: ['channel_occupied', 'member_added'],
          filter: { channelNameStartsWith: 'presence-' },
          headers: { 'X-Token': 'abc' },
        },
        { lambdaFunction: 'webhook-fn', lambda: { async: true }, eventTypes: ['client_event'] },
      ]);
    });

    it('names what is wrong with bad ones', async () => {
      const bad = await rejectionOf(store.findById('webhooks bad'));
      expect(bad).toBeInstanceOf(InvalidAppItemError);
      expect(bad.message).toContain('Webhooks[1].event_types');
      const notJson = await rejectionOf(store.findById('webhooks not json'));
      expect(notJson.message).toContain('Webhooks is not valid JSON');
    });
  });

  it('keeps serving good apps next to a bad one, and logs the bad one without its secret', async () => {
    await table.put(
      { ...appItem('broken'), AppSecret: { S: 'broken-secret-value' }, Enabled: { S: 'sometimes' } },
      appItem('healthy'),
    );
    expect(await rejectionOf(store.findById('broken'))).toBeInstanceOf(InvalidAppItemError);
    expect(await rejectionOf(store.findByKey('broken-key'))).toBeInstanceOf(InvalidAppItemError);
    expect((await store.findById('healthy'))?.key).toBe('healthy-key');
    expect((await store.findByKey('healthy-key'))?.id).toBe('healthy');
    expect(logger.records).toContainEqual(
      expect.objectContaining({ level: 'error', attributes: expect.objectContaining({ appId: 'broken' }) }),
    );
    expect(logger.text()).not.toContain('broken-secret-value');
  });

  it('refuses a key two apps share, with one Query, and logs it', async () => {
    await table.put(
      appItem('twin-a', { AppKey: { S: 'shared-key' } }),
      appItem('twin-b', { AppKey: { S: 'shared-key' } }),
    );
    table.calls.reset();
    const error = await rejectionOf(store.findByKey('shared-key'));
    expect(error).toBeInstanceOf(DuplicateAppKeyError);
    expect([...(error as DuplicateAppKeyError).appIds].sort()).toEqual(['twin-a', 'twin-b']);
    expect(table.calls.count('QueryCommand')).toBe(1);
    expect(logger.records).toContainEqual(
      expect.objectContaining({
        level: 'error',
        attributes: expect.objectContaining({ appKey: 'shared-key' }),
      }),
    );
    // By id each twin is still a well-defined app.
    expect((await store.findById('twin-a'))?.key).toBe('shared-key');
  });

  it('reports a missing table or index as StoreUnavailableError, never as not found', async () => {
    const noTable = new DynamoDbAppStore({ client: table.client, tableName: 'no-such-table' });
    for (const lookup of [noTable.findById('app-id'), noTable.findByKey('app-key')]) {
      const error = await rejectionOf(lookup);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(error.message).toContain('ResourceNotFoundException');
      expect((error.cause as Error).name).toBe('ResourceNotFoundException');
    }
    const noIndex = new DynamoDbAppStore({
      client: table.client,
      tableName: table.name,
      indexName: 'NoSuchIndex',
    });
    expect(await rejectionOf(noIndex.findByKey('app-key'))).toBeInstanceOf(StoreUnavailableError);
  });

  describe('when DynamoDB fails', () => {
    let proxy: AwsJsonProxy;
    let proxied: DynamoDbAppStore;
    let proxiedClient: DynamoDBClient;

    beforeAll(async () => {
      proxy = await startDynamoDbProxy(dynamodbEndpoint());
      proxiedClient = testClient({ endpoint: proxy.endpoint });
      proxied = new DynamoDbAppStore({ client: proxiedClient, tableName: table.name });
    });

    afterAll(async () => {
      proxiedClient.destroy();
      await proxy.close();
    });

    it('works through the proxy while it forwards', async () => {
      proxy.setFault(undefined);
      proxy.resetCounts();
      expect(await proxied.findById('app-id')).toEqual(SEED_EXAMPLE_APP);
      expect(await proxied.findByKey('app-key')).toEqual(SEED_EXAMPLE_APP);
      expect([proxy.count('GetItem'), proxy.count('Query')]).toEqual([1, 1]);
    });

    it.each(Object.entries(DYNAMODB_FAULTS).filter(([name]) => name !== 'hang'))(
      'turns %s into StoreUnavailableError for both lookups',
      async (_, fault: AwsFault) => {
        proxy.setFault(fault);
        proxy.resetCounts();
        for (const lookup of [proxied.findById('app-id'), proxied.findByKey('app-key')]) {
          const error = await rejectionOf(lookup);
          expect(error).toBeInstanceOf(StoreUnavailableError);
          expect(error.cause).toBeInstanceOf(Error);
        }
        expect(proxy.count()).toBe(2);
        proxy.setFault(undefined);
      },
    );

    it('gives up on a hung DynamoDB after the client timeout', async () => {
      proxy.setFault(DYNAMODB_FAULTS.hang);
      const impatient = createAppStoreClient(
        { region: 'us-east-1', endpoint: proxy.endpoint, table: table.name },
        { connectionTimeoutMs: 200, requestTimeoutMs: 200, maxAttempts: 1 },
      );
      const hung = new DynamoDbAppStore({ client: impatient, tableName: table.name });
      const error = await rejectionOf(hung.findById('app-id'));
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error.cause as Error).name).toBe('TimeoutError');
      impatient.destroy();
      proxy.setFault(undefined);
    });

    it('turns a refused connection into StoreUnavailableError', async () => {
      const unreachableClient = testClient({ endpoint: await closedPortEndpoint() });
      const unreachable = new DynamoDbAppStore({ client: unreachableClient, tableName: table.name });
      expect(await rejectionOf(unreachable.findById('app-id'))).toBeInstanceOf(StoreUnavailableError);
      expect(await rejectionOf(unreachable.findByKey('app-key'))).toBeInstanceOf(StoreUnavailableError);
      unreachableClient.destroy();
    });
  });
});
