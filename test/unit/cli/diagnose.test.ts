import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { parseAppItem } from '../../../src/apps/parse-item.js';
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
    expect(soketiLimit(item, 'maxConnections')).toEqual({ source: 'max_connections', meaning: '3' });
    expect(
      soketiLimit(appItem('x', { maxConnections: { N: '1' }, MaxConnections: { N: '2' } }), 'maxConnections'),
    ).toEqual({ source: 'MaxConnections', meaning: '2' });
  });
});

describe('diagnoseItem', () => {
  it('finds nothing in an item the CLI wrote, -1 limits included', () => {
    const built = buildAppItem(
      {},
      withNewAppDefaults({ id: 'a', key: 'k', secret: 's', maxEventBatchSize: -1 }),
    );
    if (!built.ok) throw new Error('not built');
    expect(diagnoseItem(built.item)).toEqual({ id: 'a', key: 'k', findings: [], fix: undefined });
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

  it('reports -1 in the seven limits only on an item still in soketi form', () => {
    const soketiStyle = diagnoseItem({ ...SEED_EXAMPLE_ITEM, MaxChannelNameLength: { N: '-1' } });
    expect(soketiStyle.findings).toContainEqual({
      attribute: 'MaxChannelNameLength',
      kind: 'differs',
      text: 'N -1 (kept): soketi read it as a limit that refuses everything (its check was value > -1), this service reads unlimited.',
    });
    expect(soketiStyle.fix?.set.MaxChannelNameLength).toBeUndefined();
  });

  it('removes NULL server-default limits and aliases soketi preferred', () => {
    const diagnosis = diagnoseItem({
      ...SEED_EXAMPLE_ITEM,
      MaxEventBatchSize: { NULL: true },
      enable_client_messages: { S: 'on' },
    });
    expect(diagnosis.fix?.remove).toEqual(['MaxEventBatchSize', 'enable_client_messages']);
    expect(diagnosis.findings).toContainEqual(
      expect.objectContaining({
        attribute: 'EnableClientMessages',
        kind: 'differs',
        text: expect.stringContaining('as true; this service ignores aliases and reads false'),
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

  it('describes rewritten webhooks by size, not content', () => {
    const diagnosis = diagnoseItem({
      ...SEED_EXAMPLE_ITEM,
      Webhooks: { S: '[ {"url":"https://h.example/?t=tok3n","event_types":["cache_miss"]} ]' },
    });
    expect(diagnosis.findings).toContainEqual(
      expect.objectContaining({
        attribute: 'Webhooks',
        kind: 'rewritten',
        text: expect.stringMatching(/^S \(\d+ characters of JSON\) → S/),
      }),
    );
    expect(JSON.stringify(diagnosis.findings)).not.toContain('tok3n');
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
