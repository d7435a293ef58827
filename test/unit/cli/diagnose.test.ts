import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { type AppItem, parseAppItem } from '../../../src/apps/parse-item.js';
import { buildAppItem, withNewAppDefaults } from '../../../src/cli/app-record.js';
import { diagnoseItem, sharedKeyFindings } from '../../../src/cli/doctor/diagnose.js';
import { soketiBoolean, soketiLimit } from '../../../src/cli/doctor/soketi-reading.js';
import { appItem, bytes, SEED_EXAMPLE_ITEM } from '../../fixtures/apps/items.js';

type BooleanAttribute = 'Enabled' | 'EnableClientMessages' | 'EnableUserAuthentication';
const MEMBER = {
  Enabled: 'enabled',
  EnableClientMessages: 'enableClientMessages',
  EnableUserAuthentication: 'enableUserAuthentication',
} as const;

/** What soketi made of each encoding, per field (reference §5.3); undefined value = absent. */
const SOKETI_BOOLEANS: readonly [string, AttributeValue | undefined, Record<BooleanAttribute, boolean>][] = [
  [
    'BOOL false',
    { BOOL: false },
    { Enabled: false, EnableClientMessages: false, EnableUserAuthentication: false },
  ],
  [
    'B "false"',
    bytes('false'),
    { Enabled: true, EnableClientMessages: false, EnableUserAuthentication: true },
  ],
  ['B "true"', bytes('true'), { Enabled: true, EnableClientMessages: true, EnableUserAuthentication: true }],
  [
    'B " Yes "',
    bytes(' Yes '),
    { Enabled: true, EnableClientMessages: true, EnableUserAuthentication: true },
  ],
  [
    'S "false"',
    { S: 'false' },
    { Enabled: true, EnableClientMessages: true, EnableUserAuthentication: true },
  ],
  ['S ""', { S: '' }, { Enabled: true, EnableClientMessages: false, EnableUserAuthentication: false }],
  ['N 0', { N: '0' }, { Enabled: false, EnableClientMessages: false, EnableUserAuthentication: false }],
  ['N 1', { N: '1' }, { Enabled: true, EnableClientMessages: true, EnableUserAuthentication: true }],
  ['NULL', { NULL: true }, { Enabled: true, EnableClientMessages: false, EnableUserAuthentication: false }],
  ['absent', undefined, { Enabled: true, EnableClientMessages: false, EnableUserAuthentication: false }],
];

describe('soketi readings', () => {
  describe.each(Object.keys(MEMBER) as BooleanAttribute[])('%s', (attribute) => {
    it.each(SOKETI_BOOLEANS)('as %s', (_, value, expected) => {
      const item = appItem('x', value === undefined ? {} : { [attribute]: value });
      expect(soketiBoolean(item, MEMBER[attribute]).meaning).toBe(String(expected[attribute]));
    });
  });

  it.each([
    ['MaxConnections', { N: '0' }, 'unlimited'],
    ['MaxConnections', { N: '-1' }, 'unlimited'],
    ['MaxConnections', { S: 'many' }, 'unlimited'],
    ['MaxBackendEventsPerSecond', { N: '-1' }, 'unlimited'],
    ['MaxBackendEventsPerSecond', { N: '0' }, '0, nothing allowed'],
    ['MaxBackendEventsPerSecond', { S: 'x' }, 'an undefined rate (a limiter built with NaN points)'],
    ['MaxEventBatchSize', { N: '-1' }, 'a limit that refuses everything (its check was value > -1)'],
    ['MaxEventBatchSize', { S: '12.9' }, '12'],
    ['MaxEventPayloadInKb', { S: '12.5' }, '12.5'],
    ['MaxEventBatchSize', { S: 'x' }, 'unlimited (a comparison with NaN never refuses)'],
    ['MaxEventBatchSize', undefined, 'the server default'],
  ] as const)('%s as %j: %s', (attribute, value, meaning) => {
    const member = (attribute[0]!.toLowerCase() + attribute.slice(1)) as Parameters<typeof soketiLimit>[1];
    expect(soketiLimit(appItem('x', value === undefined ? {} : { [attribute]: value }), member).meaning).toBe(
      meaning,
    );
  });

  it('prefers snake_case over PascalCase over camelCase, as the App constructor did', () => {
    const item = appItem('x', {
      maxConnections: { N: '1' },
      MaxConnections: { N: '2' },
      max_connections: { N: '3' },
    });
    expect(soketiLimit(item, 'maxConnections')).toEqual({
      source: 'max_connections',
      meaning: '3',
      equivalent: { N: '3' },
    });
    expect(
      soketiLimit(appItem('x', { maxConnections: { N: '1' }, MaxConnections: { N: '2' } }), 'maxConnections'),
    ).toEqual({ source: 'MaxConnections', meaning: '2', equivalent: { N: '2' } });
  });
});

describe('diagnoseItem', () => {
  it('finds nothing in an item the CLI wrote with -1 only where soketi read it as unlimited too', () => {
    const built = buildAppItem({}, withNewAppDefaults({ id: 'a', key: 'k', secret: 's' }));
    if (!built.ok) throw new Error('not built');
    expect(diagnoseItem(built.item)).toEqual({ id: 'a', key: 'k', findings: [], fix: undefined });
  });

  it('reports -1 in the seven limits on a canonical item too, and says --fix keeps unlimited', () => {
    const built = buildAppItem(
      {},
      withNewAppDefaults({ id: 'a', key: 'k', secret: 's', maxEventBatchSize: -1 }),
    );
    if (!built.ok) throw new Error('not built');
    const diagnosis = diagnoseItem(built.item);
    expect(diagnosis.fix).toBeUndefined();
    expect(diagnosis.findings).toEqual([
      {
        attribute: 'MaxEventBatchSize',
        kind: 'differs',
        text:
          'N -1 (kept): soketi read it as a limit that refuses everything (its check was value > -1), this ' +
          "service reads unlimited. --fix keeps this service's reading (unlimited); to refuse everything as " +
          'soketi did, set --max-event-batch-size 0.',
      },
    ]);
  });

  it("fixes the seed's item into BOOL, conditional on the bytes it read", () => {
    const diagnosis = diagnoseItem(SEED_EXAMPLE_ITEM);
    expect(diagnosis.findings.map((finding) => [finding.attribute, finding.kind])).toEqual([
      ['Enabled', 'rewritten'],
      ['EnableClientMessages', 'rewritten'],
      ['EnableUserAuthentication', 'rewritten'],
    ]);
    expect(diagnosis.fix).toEqual({
      set: {
        Enabled: { BOOL: true },
        EnableClientMessages: { BOOL: false },
        EnableUserAuthentication: { BOOL: false },
      },
      remove: [],
      expect: {
        Enabled: bytes('true'),
        EnableClientMessages: bytes('false'),
        EnableUserAuthentication: undefined,
      },
    });
    expect(parseAppItem({ ...SEED_EXAMPLE_ITEM, ...diagnosis.fix!.set })).toEqual(
      parseAppItem(SEED_EXAMPLE_ITEM),
    );
  });

  it('removes NULL server-default limits and aliases soketi preferred', () => {
    const diagnosis = diagnoseItem({
      ...SEED_EXAMPLE_ITEM,
      MaxEventBatchSize: { NULL: true },
      enable_client_messages: { S: 'on' },
    });
    expect(diagnosis.fix?.remove).toEqual(['enable_client_messages', 'MaxEventBatchSize']);
    expect(diagnosis.fix?.set.EnableClientMessages).toEqual({ BOOL: true });
    expect(diagnosis.findings).toContainEqual(
      expect.objectContaining({
        attribute: 'enable_client_messages',
        kind: 'differs',
        text: expect.stringContaining(
          "as true; this service ignores aliases and reads false. --fix keeps soketi's reading.",
        ),
      }),
    );
  });

  it('warns about a 0 limit without failing or fixing it', () => {
    const built = buildAppItem(
      {},
      withNewAppDefaults({ id: 'a', key: 'k', secret: 's', maxEventNameLength: 0 }),
    );
    if (!built.ok) throw new Error('not built');
    const diagnosis = diagnoseItem(built.item);
    expect(diagnosis.fix).toBeUndefined();
    expect(diagnosis.findings).toEqual([
      expect.objectContaining({
        attribute: 'MaxEventNameLength',
        kind: 'warning',
        text: expect.stringContaining('every event name is refused'),
      }),
    ]);
  });

  it('names what soketi read for an unreadable item, and never its secret or webhook text', () => {
    const item = appItem('x', {
      AppSecret: { S: 'sekrit' },
      Enabled: { B: Buffer.from('true', 'base64') },
      MaxConnections: { S: 'plenty' },
      Webhooks: { S: '{"headers":{"A":"tok3n"}' },
    });
    const diagnosis = diagnoseItem(item);
    expect(diagnosis.fix).toBeUndefined();
    expect(diagnosis.findings.map((finding) => [finding.attribute, finding.kind])).toEqual([
      ['Enabled', 'unreadable'],
      ['MaxConnections', 'unreadable'],
      ['Webhooks', 'unreadable'],
    ]);
    const text = JSON.stringify(diagnosis);
    expect(text).toContain('soketi read it as true. Set it with apps update x --enabled or --disabled.');
    expect(text).toContain(
      'soketi read it as unlimited. Set it with apps update x --max-connections <n|unlimited>.',
    );
    expect(text).not.toContain('sekrit');
    expect(text).not.toContain('tok3n');
  });

  it('keeps a Webhooks string that reads correctly, reporting the members this service ignores', () => {
    const text =
      '[ {"lambda_function":"f","lambda":{"async":true,"client_options":{"endpoint":"http://l","credentials":{"k":"tok3n"}}},' +
      '"region":"eu-west-1","event_types":["cache_miss"],"note":"tok3n"} ]';
    const diagnosis = diagnoseItem({ ...SEED_EXAMPLE_ITEM, Webhooks: { S: text } });
    expect(diagnosis.fix?.set.Webhooks).toBeUndefined();
    expect(diagnosis.fix?.remove).not.toContain('Webhooks');
    expect(diagnosis.findings).toContainEqual({
      attribute: 'Webhooks',
      kind: 'differs',
      text:
        'this service ignores Webhooks[0].lambda.client_options.credentials, Webhooks[0].note (of ' +
        "soketi's lambda.client_options it reads only endpoint, and only where the stage allows it); --fix " +
        'keeps them as stored.',
    });
    expect(JSON.stringify(diagnosis.findings)).not.toContain('tok3n');
  });

  it('converts a Webhooks list to a string holding every member, described by size', () => {
    const webhooks = [
      {
        url: 'https://h.example/?t=tok3n',
        event_types: ['cache_miss'],
        lambda: { client_options: { a: 1 } },
      },
    ];
    const diagnosis = diagnoseItem({ ...SEED_EXAMPLE_ITEM, Webhooks: marshall({ w: webhooks }).w! });
    expect(JSON.parse(diagnosis.fix!.set.Webhooks!.S!)).toEqual(webhooks);
    expect(diagnosis.findings).toContainEqual(
      expect.objectContaining({
        attribute: 'Webhooks',
        kind: 'rewritten',
        text: expect.stringMatching(/^L \(1 entries\) → S \(\d+ characters of JSON, every member kept\)$/),
      }),
    );
    expect(JSON.stringify(diagnosis.findings)).not.toContain('tok3n');
  });

  it("writes soketi's more restrictive alias values into the PascalCase attributes before removing them", () => {
    const item = appItem('revoked', { enabled: { BOOL: false }, max_client_events_per_sec: { N: '5' } });
    const diagnosis = diagnoseItem(item);
    expect(diagnosis.fix?.remove).toEqual(['enabled', 'max_client_events_per_sec']);
    const fixed: AppItem = { ...item, ...diagnosis.fix!.set };
    for (const alias of diagnosis.fix!.remove ?? []) delete fixed[alias];
    expect(parseAppItem(fixed)).toMatchObject({ enabled: false, maxClientEventsPerSecond: 5 });
    expect(
      diagnosis.findings.filter((finding) => finding.kind === 'differs').map((f) => f.attribute),
    ).toEqual(['enabled', 'max_client_events_per_sec']);
    expect(diagnosis.findings.find((finding) => finding.attribute === 'enabled')!.text).toBe(
      "BOOL false → Enabled BOOL false, alias removed: soketi read this alias over Enabled (absent) as false; this service ignores aliases and reads true. --fix keeps soketi's reading.",
    );
  });

  it('writes 0 for an alias -1 in the seven limits (soketi refused everything)', () => {
    const diagnosis = diagnoseItem(appItem('x', { max_event_batch_size: { N: '-1' } }));
    expect(diagnosis.fix?.set.MaxEventBatchSize).toEqual({ N: '0' });
  });

  it('leaves an alias whose soketi reading has no equivalent here, and marks it for the operator', () => {
    const item = appItem('x', {
      MaxBackendEventsPerSecond: { N: '3' },
      max_backend_events_per_sec: { S: 'x' },
    });
    const diagnosis = diagnoseItem(item);
    expect(diagnosis.fix?.remove ?? []).not.toContain('max_backend_events_per_sec');
    expect(diagnosis.fix?.set.MaxBackendEventsPerSecond).toBeUndefined();
    expect(diagnosis.findings).toContainEqual(
      expect.objectContaining({ attribute: 'max_backend_events_per_sec', kind: 'differs', manual: true }),
    );
  });

  it('reports every alias it removes, even one soketi did not read', () => {
    const diagnosis = diagnoseItem(appItem('x', { Enabled: { BOOL: true }, enabled: { BOOL: false } }));
    expect(diagnosis.fix?.remove).toEqual(['enabled']);
    expect(diagnosis.findings).toContainEqual({
      attribute: 'enabled',
      kind: 'rewritten',
      text: 'BOOL false, alias removed: soketi read Enabled over it, and this service ignores aliases, so neither read it.',
    });
  });
});

describe('sharedKeyFindings', () => {
  it('reports each key used by more than one app', () => {
    const findings = sharedKeyFindings(
      new Map([
        ['k', ['a', 'b']],
        ['solo', ['c']],
      ]),
    );
    expect(findings).toHaveLength(1);
    expect(findings[0]!.text).toMatch(/^k is shared by apps a, b: this service refuses the key/);
  });
});
