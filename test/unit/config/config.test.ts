import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { ConfigError } from '../../../src/errors/errors.js';

describe('loadConfig', () => {
  it('applies soketi-compatible defaults to an empty environment', () => {
    const config = loadConfig({});
    expect(config.appStore).toEqual({ table: 'apps', region: 'us-east-1', endpoint: undefined });
    expect(config.stateTable).toBeUndefined();
    expect(config.appCache).toEqual({
      enabled: true,
      ttlSeconds: 60,
      negativeTtlSeconds: 5,
      staleIfErrorSeconds: 300,
      maxEntries: 10_000,
    });
    expect(config.appLimitDefaults).toEqual({
      maxPresenceMembersPerChannel: 100,
      maxPresenceMemberSizeInKb: 2,
      maxChannelNameLength: 200,
      maxEventChannelsAtOnce: 100,
      maxEventNameLength: 200,
      maxEventPayloadInKb: 100,
      maxEventBatchSize: 10,
    });
  });

  it('takes the region from AWS_REGION when the app manager region is unset', () => {
    expect(loadConfig({ AWS_REGION: 'eu-west-1' }).appStore.region).toBe('eu-west-1');
    expect(
      loadConfig({ AWS_REGION: 'eu-west-1', APP_MANAGER_DYNAMODB_REGION: 'ap-south-1' }).appStore.region,
    ).toBe('ap-south-1');
  });

  it('reads SOKETI_-prefixed names, the plain name winning when both are set', () => {
    expect(loadConfig({ SOKETI_APP_MANAGER_DYNAMODB_TABLE: 'soketi-apps' }).appStore.table).toBe(
      'soketi-apps',
    );
    expect(
      loadConfig({ SOKETI_APP_MANAGER_DYNAMODB_TABLE: 'soketi-apps', APP_MANAGER_DYNAMODB_TABLE: 'mine' })
        .appStore.table,
    ).toBe('mine');
    expect(loadConfig({ SOKETI_EVENT_MAX_BATCH_SIZE: '20' }).appLimitDefaults.maxEventBatchSize).toBe(20);
  });

  it('parses cache settings and server limits, negative limits meaning unlimited', () => {
    const config = loadConfig({
      APP_MANAGER_CACHE_ENABLED: 'false',
      APP_MANAGER_CACHE_TTL: '30',
      APP_MANAGER_CACHE_MAX_ENTRIES: '50',
      EVENT_MAX_SIZE_IN_KB: '10.5',
      PRESENCE_MAX_MEMBERS: '-1',
    });
    expect(config.appCache.enabled).toBe(false);
    expect(config.appCache.ttlSeconds).toBe(30);
    expect(config.appCache.maxEntries).toBe(50);
    expect(config.appLimitDefaults.maxEventPayloadInKb).toBe(10.5);
    expect(config.appLimitDefaults.maxPresenceMembersPerChannel).toBe(Number.POSITIVE_INFINITY);
  });

  it.each([
    ['APP_MANAGER_CACHE_ENABLED', 'maybe'],
    ['APP_MANAGER_CACHE_TTL', 'soon'],
    ['APP_MANAGER_CACHE_TTL', '-5'],
    ['APP_MANAGER_CACHE_MAX_ENTRIES', '0'],
    ['APP_MANAGER_CACHE_MAX_ENTRIES', '1.5'],
    ['EVENT_MAX_BATCH_SIZE', '2.5'],
    ['APP_MANAGER_DYNAMODB_ENDPOINT', 'localhost:8000'],
    ['SOKETI_APP_MANAGER_CACHE_TTL', 'x'],
  ])('fails fast on %s=%s, naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrowError(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrowError(new RegExp(`^${name}: `));
  });

  it('explains why soketi\'s "never expire" cache TTL is refused', () => {
    expect(() => loadConfig({ SOKETI_APP_MANAGER_CACHE_TTL: '-1' })).toThrowError(
      /^SOKETI_APP_MANAGER_CACHE_TTL: "-1" \(soketi's "never expire"\) is not supported/,
    );
  });
});
