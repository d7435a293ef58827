import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type AppResolver, createAppResolver } from '../../../src/apps/resolver.js';
import { type AppCacheConfig, loadConfig } from '../../../src/config/config.js';
import {
  DuplicateAppKeyError,
  InvalidAppItemError,
  StoreUnavailableError,
} from '../../../src/errors/errors.js';
import { type AppsTestTable, appsTestTable } from '../../fixtures/apps/apps-table.js';
import { appItem, SEED_EXAMPLE_APP, SEED_EXAMPLE_ITEM } from '../../fixtures/apps/items.js';
import { rejectionOf } from '../../fixtures/apps/rejection.js';
import {
  type AwsJsonProxy,
  closedPortEndpoint,
  DYNAMODB_FAULTS,
  startDynamoDbProxy,
} from '../../support/aws-json-proxy.js';
import { dynamodbEndpoint, testClient } from '../../support/dynamodb.js';
import { recordingLogger } from '../../support/recording-logger.js';

let table: AppsTestTable;
let proxy: AwsJsonProxy;
let proxiedClient: DynamoDBClient;

/** A resolver over the test table with a clock the test moves; every DynamoDB call is counted. */
function resolverWithClock(cache: Partial<AppCacheConfig> = {}, via: DynamoDBClient = table.client) {
  const clock = { now: 1_000_000 };
  const logger = recordingLogger();
  const resolver = createAppResolver({
    client: via,
    tableName: table.name,
    config: loadConfig({}),
    cache: { ttlSeconds: 60, negativeTtlSeconds: 5, staleIfErrorSeconds: 300, maxEntries: 100, ...cache },
    logger,
    now: () => clock.now,
  });
  const advance = (seconds: number) => {
    clock.now += seconds * 1000;
  };
  return { resolver, logger, advance };
}

beforeAll(async () => {
  table = await appsTestTable('resolver');
  proxy = await startDynamoDbProxy(dynamodbEndpoint());
  proxiedClient = testClient({ endpoint: proxy.endpoint });
  await table.put(SEED_EXAMPLE_ITEM, appItem('one'), appItem('two'), appItem('three'));
});

afterEach(() => {
  table.calls.reset();
  proxy.setFault(undefined);
  proxy.resetCounts();
  vi.unstubAllEnvs();
});

afterAll(async () => {
  proxiedClient.destroy();
  await proxy.close();
  await table.drop();
});

describe('createAppResolver against dynalite', () => {
  it('resolves by id with GetItem and by key with a Query', async () => {
    const { resolver } = resolverWithClock({ enabled: false });
    expect(await resolver.byId('app-id')).toEqual(SEED_EXAMPLE_APP);
    expect(await resolver.byKey('app-key')).toEqual(SEED_EXAMPLE_APP);
    expect(await resolver.byId('nobody')).toBeUndefined();
    expect(await resolver.byKey('nobody')).toBeUndefined();
    expect([table.calls.count('GetItemCommand'), table.calls.count('QueryCommand')]).toEqual([2, 2]);
  });

  it('answers repeated lookups from the cache', async () => {
    const { resolver } = resolverWithClock();
    const app = await resolver.byKey('app-key');
    for (let i = 0; i < 10; i++) {
      expect(await resolver.byKey('app-key')).toBe(app);
      expect(await resolver.byId('app-id')).toBe(app);
    }
    expect(table.calls.total()).toBe(1);
    expect(resolver.stats()).toMatchObject({ hits: 20, misses: 1 });
  });

  it('reloads after the TTL and sees the change', async () => {
    const { resolver, advance } = resolverWithClock({ ttlSeconds: 60 });
    await table.put(appItem('changing', { Enabled: { BOOL: true } }));
    expect((await resolver.byId('changing'))?.enabled).toBe(true);
    await table.put(appItem('changing', { Enabled: { BOOL: false } }));
    advance(59);
    expect((await resolver.byId('changing'))?.enabled).toBe(true);
    expect(table.calls.count('GetItemCommand')).toBe(1);
    advance(1);
    expect((await resolver.byId('changing'))?.enabled).toBe(false);
    expect(table.calls.count('GetItemCommand')).toBe(2);
  });

  it('costs one DynamoDB call for 100 concurrent first lookups of one key', async () => {
    const { resolver } = resolverWithClock();
    const apps = await Promise.all(Array.from({ length: 100 }, () => resolver.byKey('one-key')));
    expect(table.calls.count('QueryCommand')).toBe(1);
    expect(new Set(apps).size).toBe(1);
    expect(apps[0]?.id).toBe('one');
  });

  it('costs one DynamoDB call for 100 concurrent first lookups through a slow DynamoDB', async () => {
    const { resolver } = resolverWithClock({}, proxiedClient);
    proxy.setFault({ kind: 'delay', ms: 50 });
    const apps = await Promise.all(Array.from({ length: 100 }, () => resolver.byId('two')));
    expect(proxy.count('GetItem')).toBe(1);
    expect(apps.every((app) => app?.key === 'two-key')).toBe(true);
  });

  it('remembers an unknown key for the negative TTL', async () => {
    const { resolver, advance } = resolverWithClock({ negativeTtlSeconds: 5 });
    for (let i = 0; i < 20; i++) expect(await resolver.byKey('wrong-key')).toBeUndefined();
    expect(table.calls.count('QueryCommand')).toBe(1);
    expect(resolver.stats()).toMatchObject({ negativeHits: 19 });
    await table.put(appItem('late', { AppKey: { S: 'wrong-key' } }));
    advance(5);
    expect((await resolver.byKey('wrong-key'))?.id).toBe('late');
    expect(table.calls.count('QueryCommand')).toBe(2);
  });

  it('keeps at most maxEntries entries, dropping the least recently used', async () => {
    const { resolver } = resolverWithClock({ maxEntries: 2 });
    await resolver.byId('one');
    await resolver.byId('two');
    await resolver.byId('one');
    await resolver.byId('three'); // evicts two, the least recently used
    expect(resolver.stats()).toMatchObject({ entries: 2, evictions: 1 });
    table.calls.reset();
    await resolver.byId('one');
    await resolver.byId('three');
    expect(table.calls.total()).toBe(0);
    await resolver.byId('two');
    expect(table.calls.total()).toBe(1);
  });

  it('rejects impossible ids and keys without calling DynamoDB', async () => {
    const { resolver } = resolverWithClock();
    for (const impossible of ['', 'k'.repeat(300), 'a\u0000b', 'line\nbreak']) {
      expect(await resolver.byId(impossible)).toBeUndefined();
      expect(await resolver.byKey(impossible)).toBeUndefined();
    }
    expect(table.calls.total()).toBe(0);
    expect(resolver.stats()).toMatchObject({ rejected: 8, entries: 0 });
  });

  it('refuses a duplicated key and remembers the refusal for the negative TTL', async () => {
    await table.put(
      appItem('dup-a', { AppKey: { S: 'dup-key' } }),
      appItem('dup-b', { AppKey: { S: 'dup-key' } }),
    );
    const { resolver, logger } = resolverWithClock();
    for (let i = 0; i < 3; i++) {
      expect(await rejectionOf(resolver.byKey('dup-key'))).toBeInstanceOf(DuplicateAppKeyError);
    }
    expect(table.calls.count('QueryCommand')).toBe(1);
    expect(logger.records.filter((record) => record.level === 'error')).toHaveLength(1);
  });

  it('throws InvalidAppItemError for a bad item while other apps resolve', async () => {
    await table.put(appItem('bad-item', { MaxConnections: { S: 'lots' } }));
    const { resolver } = resolverWithClock();
    expect(await rejectionOf(resolver.byId('bad-item'))).toBeInstanceOf(InvalidAppItemError);
    expect(await rejectionOf(resolver.byId('bad-item'))).toBeInstanceOf(InvalidAppItemError);
    expect((await resolver.byId('one'))?.key).toBe('one-key');
    expect(table.calls.count('GetItemCommand')).toBe(2);
  });

  describe('while DynamoDB is unreachable', () => {
    it.each([
      ['throttled', DYNAMODB_FAULTS.throttling],
      ['failing with 500', DYNAMODB_FAULTS.internalError],
      ['refusing access', DYNAMODB_FAULTS.accessDenied],
      ['dropping connections', DYNAMODB_FAULTS.reset],
    ])(
      'serves a cached app past its TTL when DynamoDB is %s, then gives up after the window',
      async (_, fault) => {
        const { resolver, logger, advance } = resolverWithClock(
          { ttlSeconds: 60, staleIfErrorSeconds: 300 },
          proxiedClient,
        );
        const app = await resolver.byKey('app-key');
        proxy.setFault(fault);
        advance(120);
        expect(await resolver.byKey('app-key')).toBe(app);
        // Right after a failure the next lookup does not wait on DynamoDB again.
        expect(await resolver.byId('app-id')).toBe(app);
        expect(resolver.stats()).toMatchObject({ staleServed: 2, errors: 1 });
        expect(logger.records.map((record) => record.level)).toEqual(['warn']);
        expect(logger.text()).not.toContain(SEED_EXAMPLE_APP.secret);
        advance(240);
        expect(await rejectionOf(resolver.byKey('app-key'))).toBeInstanceOf(StoreUnavailableError);
        expect(proxy.count()).toBe(3);
      },
    );

    it('throws StoreUnavailableError when nothing is cached, and does not remember the failure', async () => {
      const { resolver } = resolverWithClock({}, proxiedClient);
      proxy.setFault(DYNAMODB_FAULTS.throttling);
      expect(await rejectionOf(resolver.byId('one'))).toBeInstanceOf(StoreUnavailableError);
      expect(await rejectionOf(resolver.byKey('one-key'))).toBeInstanceOf(StoreUnavailableError);
      proxy.setFault(undefined);
      expect((await resolver.byId('one'))?.id).toBe('one');
      expect((await resolver.byKey('one-key'))?.id).toBe('one');
      expect(proxy.count()).toBe(4);
    });

    it('throws StoreUnavailableError when the endpoint refuses connections', async () => {
      const unreachable = testClient({ endpoint: await closedPortEndpoint() });
      const { resolver } = resolverWithClock({}, unreachable);
      expect(await rejectionOf(resolver.byId('one'))).toBeInstanceOf(StoreUnavailableError);
      expect(await rejectionOf(resolver.byKey('one-key'))).toBeInstanceOf(StoreUnavailableError);
      expect(resolver.stats()).toMatchObject({ errors: 2, entries: 0 });
      unreachable.destroy();
    });
  });

  it('reports a missing table as StoreUnavailableError, never as not found, and never caches it', async () => {
    const resolver = createAppResolver({
      client: table.client,
      tableName: 'no-such-table',
      config: loadConfig({}),
    });
    for (let i = 0; i < 2; i++) {
      expect(await rejectionOf(resolver.byId('app-id'))).toBeInstanceOf(StoreUnavailableError);
      expect(await rejectionOf(resolver.byKey('app-key'))).toBeInstanceOf(StoreUnavailableError);
    }
    expect(table.calls.total()).toBe(4);
  });

  it('asks DynamoDB every time with the cache disabled', async () => {
    const { resolver } = resolverWithClock({ enabled: false });
    await resolver.byId('one');
    await resolver.byId('one');
    await resolver.byKey('one-key');
    expect(table.calls.total()).toBe(3);
    expect(resolver.stats()).toMatchObject({ hits: 0, misses: 3, entries: 0 });
  });

  it('follows a deleted app once its TTL has passed', async () => {
    await table.put(appItem('short-lived'));
    const { resolver, advance } = resolverWithClock({ ttlSeconds: 60 });
    expect(await resolver.byKey('short-lived-key')).toBeDefined();
    await table.remove('short-lived');
    advance(60);
    expect(await resolver.byKey('short-lived-key')).toBeUndefined();
    expect(await resolver.byId('short-lived')).toBeUndefined();
  });

  describe('configuration from the environment', () => {
    it('with no options reads process.env: table, endpoint and cache settings', async () => {
      vi.stubEnv('SOKETI_APP_MANAGER_DYNAMODB_TABLE', table.name);
      vi.stubEnv('APP_MANAGER_DYNAMODB_ENDPOINT', proxy.endpoint);
      vi.stubEnv('APP_MANAGER_CACHE_TTL', '60');
      const resolver: AppResolver = createAppResolver();
      expect(await resolver.byId('app-id')).toEqual(SEED_EXAMPLE_APP);
      expect(await resolver.byId('app-id')).toEqual(SEED_EXAMPLE_APP);
      expect(proxy.count('GetItem')).toBe(1);
    });

    it('applies server-level limit defaults and disables the cache from env', async () => {
      const resolver = createAppResolver({
        config: loadConfig({
          APP_MANAGER_DYNAMODB_TABLE: table.name,
          APP_MANAGER_DYNAMODB_ENDPOINT: proxy.endpoint,
          APP_MANAGER_CACHE_ENABLED: 'false',
          EVENT_MAX_BATCH_SIZE: '4',
          SOKETI_PRESENCE_MAX_MEMBERS: '-1',
        }),
      });
      const app = await resolver.byKey('app-key');
      expect(app).toMatchObject({
        maxEventBatchSize: 4,
        maxPresenceMembersPerChannel: Number.POSITIVE_INFINITY,
      });
      await resolver.byKey('app-key');
      expect(proxy.count('Query')).toBe(2);
    });
  });
});
