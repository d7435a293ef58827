import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UNLIMITED } from '../../../src/apps/app.js';
import { parseAppItem } from '../../../src/apps/parse-item.js';
import {
  type AppFields,
  appFieldsFromJson,
  appRecordFromItem,
  buildAppItem,
  canonicalAppItem,
  withNewAppDefaults,
} from '../../../src/cli/app-record.js';
import { appItem, bytes, SEED_EXAMPLE_ITEM } from '../../fixtures/apps/items.js';

const newApp = (fields: AppFields) =>
  buildAppItem({}, withNewAppDefaults({ id: 'a', key: 'k', secret: 's', ...fields }));

describe('buildAppItem', () => {
  it('writes a new app with toAppItem types and leaves the seven server-default limits absent', () => {
    const built = newApp({ maxConnections: 10 });
    expect(built.ok).toBe(true);
    if (!built.ok) return;
    expect(built.item).toEqual({
      AppId: { S: 'a' },
      AppKey: { S: 'k' },
      AppSecret: { S: 's' },
      Enabled: { BOOL: true },
      EnableClientMessages: { BOOL: false },
      EnableUserAuthentication: { BOOL: false },
      MaxConnections: { N: '10' },
      MaxBackendEventsPerSecond: { N: '-1' },
      MaxClientEventsPerSecond: { N: '-1' },
      MaxReadRequestsPerSecond: { N: '-1' },
      Webhooks: { S: '[]' },
    });
  });

  it('sets only the given attributes of an existing item, canonically, and removes limits set to null', () => {
    const base = appItem('x', {
      Enabled: bytes('true'),
      MaxEventBatchSize: { N: '5' },
      Extra: { S: 'kept' },
    });
    const built = buildAppItem(base, {
      maxEventBatchSize: null,
      enableClientMessages: true,
      webhooks: '[ {"url":"https://h.example", "event_types":["cache_miss"]} ]',
    });
    expect(built.ok).toBe(true);
    if (!built.ok) return;
    expect(built.set).toEqual({
      EnableClientMessages: { BOOL: true },
      Webhooks: { S: '[{"url":"https://h.example","event_types":["cache_miss"]}]' },
    });
    expect(built.remove).toEqual(['MaxEventBatchSize']);
    expect(built.item.Enabled).toEqual(bytes('true'));
    expect(built.item.Extra).toEqual({ S: 'kept' });
    expect(built.item.MaxEventBatchSize).toBeUndefined();
  });

  it('separates problems in the given fields from problems the item already had', () => {
    const base = appItem('x', { Webhooks: { S: 'nope' }, Enabled: { S: 'perhaps' } });
    const built = buildAppItem(base, { enabled: false, maxConnections: 2.5 });
    expect(built).toEqual({
      ok: false,
      problems: [{ field: 'MaxConnections', problem: 'must be a whole number, got "2.5"' }],
      otherProblems: [{ field: 'Webhooks', problem: 'is not valid JSON' }],
    });
  });

  it('refuses MaxConnections 0, which soketi read as unlimited, and ids or keys that break URLs', () => {
    const built = newApp({ maxConnections: 0, id: 'a b', key: 'k/1' });
    expect(built.ok).toBe(false);
    if (built.ok) return;
    expect(built.problems.map((problem) => problem.field)).toEqual(['AppId', 'AppKey', 'MaxConnections']);
  });

  it('reads any negative limit as unlimited and writes it as -1', () => {
    const built = newApp({ maxEventBatchSize: -7 });
    expect(built.ok && built.set.MaxEventBatchSize).toEqual({ N: '-1' });
  });
});

describe('appFieldsFromJson', () => {
  it('checks JSON types member by member, keeps the good ones and never quotes values', () => {
    expect(
      appFieldsFromJson({
        id: 'a',
        secret: 42,
        enabled: 'yes',
        maxConnections: 'unlimited',
        colour: 'red',
        key: null,
      }),
    ).toEqual({
      fields: { id: 'a', maxConnections: -1 },
      problems: [
        { field: 'secret', problem: 'must be a string' },
        { field: 'enabled', problem: 'must be true or false' },
        expect.objectContaining({ field: 'colour', problem: expect.stringMatching(/^is not an app field/) }),
      ],
    });
  });

  it('wants an object', () => {
    expect(appFieldsFromJson([1])).toEqual({
      fields: {},
      problems: [{ field: '', problem: 'not a JSON object' }],
    });
  });
});

describe('records', () => {
  it("reads the seed's item into the record soketi meant, limits absent where the item has none", () => {
    expect(appRecordFromItem(SEED_EXAMPLE_ITEM)).toEqual({
      id: 'app-id',
      key: 'app-key',
      secret: 'app-secret',
      enabled: true,
      enableClientMessages: false,
      enableUserAuthentication: false,
      maxConnections: -1,
      maxBackendEventsPerSecond: -1,
      maxClientEventsPerSecond: -1,
      maxReadRequestsPerSecond: -1,
      webhooks: [],
    });
  });

  it('canonicalAppItem drops attributes the service does not read and keeps absent limits absent', () => {
    const canonical = canonicalAppItem({
      ...SEED_EXAMPLE_ITEM,
      Extra: { S: 'x' },
      MaxEventBatchSize: { NULL: true },
    });
    expect(canonical.Extra).toBeUndefined();
    expect(canonical.MaxEventBatchSize).toBeUndefined();
    expect(canonical.Enabled).toEqual({ BOOL: true });
  });

  it('round-trips: the record of a built item builds the same item (any settings)', () => {
    const limit = fc.oneof(fc.constant(-1), fc.integer({ min: 1, max: 1_000_000 }));
    const settings = fc.record(
      {
        enabled: fc.boolean(),
        enableClientMessages: fc.boolean(),
        enableUserAuthentication: fc.boolean(),
        maxConnections: limit,
        maxReadRequestsPerSecond: fc.oneof(limit, fc.constant(0)),
        maxEventBatchSize: fc.oneof(limit, fc.constant(0)),
        maxEventPayloadInKb: fc.oneof(fc.constant(-1), fc.double({ min: 0.5, max: 1000, noNaN: true })),
        webhooks: fc.array(
          fc.record({ url: fc.constant('https://h.example/p'), event_types: fc.constant(['member_added']) }),
          { maxLength: 2 },
        ),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(settings, (fields) => {
        const built = newApp(fields as AppFields);
        if (!built.ok) throw new Error(JSON.stringify(built.problems));
        const record = appRecordFromItem(built.item);
        const again = buildAppItem({}, withNewAppDefaults(record as AppFields));
        expect(again.ok && again.item).toEqual(built.item);
        expect(parseAppItem(built.item).maxConnections).toBe(
          (fields.maxConnections ?? -1) < 0 ? UNLIMITED : fields.maxConnections,
        );
      }),
      { numRuns: 200 },
    );
  });
});
