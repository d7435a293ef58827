import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type App, UNLIMITED, type Webhook, type WebhookEventType } from '../../../src/apps/app.js';
import { type AppItem, parseAppItem, toAppItem } from '../../../src/apps/parse-item.js';
import { type AppLimitDefaults, DEFAULT_APP_LIMITS } from '../../../src/config/config.js';
import { InvalidAppItemError } from '../../../src/errors/errors.js';
import { appItem, bytes, SEED_EXAMPLE_APP, SEED_EXAMPLE_ITEM } from '../../fixtures/apps/items.js';

/** The problems an item has, as `field: problem` lines; fails the test if the item parses. */
function problemsOf(item: AppItem): string[] {
  try {
    parseAppItem(item);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidAppItemError);
    return (error as InvalidAppItemError).problems.map((p) => `${p.field}: ${p.problem}`);
  }
  throw new Error('expected the item to be rejected');
}

const fieldsOf = (item: AppItem) => problemsOf(item).map((line) => line.split(':')[0]);

describe('parseAppItem', () => {
  it('reads the seed example item, B booleans as bytes', () => {
    expect(parseAppItem(SEED_EXAMPLE_ITEM)).toEqual(SEED_EXAMPLE_APP);
  });

  it('applies the defaults to an item with only the required strings', () => {
    const app = parseAppItem(appItem('minimal'));
    expect(app).toEqual({
      ...SEED_EXAMPLE_APP,
      id: 'minimal',
      key: 'minimal-key',
      secret: 'minimal-secret',
    });
  });

  it('returns a frozen app, webhooks included', () => {
    const app = parseAppItem(
      appItem('frozen', { Webhooks: { S: '[{"url":"https://a.example","event_types":["client_event"]}]' } }),
    );
    expect(Object.isFrozen(app)).toBe(true);
    expect(Object.isFrozen(app.webhooks)).toBe(true);
    expect(Object.isFrozen(app.webhooks[0])).toBe(true);
    expect(Object.isFrozen(app.webhooks[0]?.eventTypes)).toBe(true);
  });

  it('ignores unknown attributes', () => {
    expect(parseAppItem(appItem('extra', { Owner: { S: 'team-a' }, Tags: { SS: ['x'] } }))).toEqual(
      parseAppItem(appItem('extra')),
    );
  });

  describe('required strings', () => {
    it('names each missing, empty or mistyped one', () => {
      expect(problemsOf({ AppKey: { S: '' }, AppSecret: { N: '5' } })).toEqual([
        'AppId: is missing',
        'AppKey: must not be empty',
        'AppSecret: must be a string (S), got N',
      ]);
    });

    it('reports the app id when it has one', () => {
      expect(() => parseAppItem(appItem('named', { Enabled: { S: 'maybe' } }))).toThrow(
        /Invalid app item named:/,
      );
    });

    it('never puts the secret in the error, whatever else is wrong', () => {
      const secret = '987654321';
      for (const secretValue of [{ S: secret }, { N: secret }]) {
        const item: AppItem = {
          AppId: { S: 'leaky' },
          AppKey: { S: 'k' },
          AppSecret: secretValue,
          Enabled: { S: 'x' },
        };
        let message = '';
        try {
          parseAppItem(item);
        } catch (error) {
          message = `${(error as Error).message}\n${JSON.stringify(error)}`;
        }
        expect(message).toContain('Enabled');
        expect(message).not.toContain(secret);
      }
    });
  });

  describe('booleans', () => {
    const fields = [
      ['Enabled', 'enabled'],
      ['EnableClientMessages', 'enableClientMessages'],
      ['EnableUserAuthentication', 'enableUserAuthentication'],
    ] as const;
    const accepted: [string, AttributeValue, boolean][] = [
      ['BOOL true', { BOOL: true }, true],
      ['BOOL false', { BOOL: false }, false],
      ['B "true"', bytes('true'), true],
      ['B "false"', bytes('false'), false],
      ['B " FALSE " (trimmed, any case)', bytes(' FALSE '), false],
      ['B "1"', bytes('1'), true],
      ['B "0"', bytes('0'), false],
      ['B "yes" (soketi word)', bytes('yes'), true],
      ['B "off" (soketi word)', bytes('off'), false],
      ['S "true"', { S: 'true' }, true],
      ['S "False"', { S: 'False' }, false],
      ['S "1"', { S: '1' }, true],
      ['S "0"', { S: '0' }, false],
      ['N 1', { N: '1' }, true],
      ['N 0', { N: '0' }, false],
    ];
    const rejected: [string, AttributeValue][] = [
      ['S "yes" (only B takes soketi words)', { S: 'yes' }],
      ['S "maybe"', { S: 'maybe' }],
      ['S ""', { S: '' }],
      ['N 2', { N: '2' }],
      ['B "maybe"', bytes('maybe')],
      ['B bytes that are not UTF-8 (AWS CLI given {"B":"true"})', { B: new Uint8Array([0xb6, 0xbb, 0x9e]) }],
      ['M', { M: {} }],
      ['SS', { SS: ['true'] }],
    ];

    for (const [attribute, property] of fields) {
      it.each(accepted)(`${attribute} as %s`, (_, value, expected) => {
        expect(parseAppItem(appItem('b', { [attribute]: value }))[property]).toBe(expected);
      });
      it.each(rejected)(`${attribute} refuses %s`, (_, value) => {
        expect(fieldsOf(appItem('b', { [attribute]: value }))).toEqual([attribute]);
      });
    }

    it('defaults Enabled to true and the other two to false, also for NULL', () => {
      for (const item of [
        appItem('d'),
        appItem('d', { Enabled: { NULL: true }, EnableClientMessages: { NULL: true } }),
      ]) {
        const app = parseAppItem(item);
        expect([app.enabled, app.enableClientMessages, app.enableUserAuthentication]).toEqual([
          true,
          false,
          false,
        ]);
      }
    });

    it('hints at base64 when B bytes are not text', () => {
      expect(problemsOf(appItem('cli', { Enabled: { B: new Uint8Array([0xb6, 0xbb, 0x9e]) } }))[0]).toContain(
        'dHJ1ZQ==',
      );
    });
  });

  describe('numbers', () => {
    const unlimitedByDefault = [
      ['MaxConnections', 'maxConnections'],
      ['MaxBackendEventsPerSecond', 'maxBackendEventsPerSecond'],
      ['MaxClientEventsPerSecond', 'maxClientEventsPerSecond'],
      ['MaxReadRequestsPerSecond', 'maxReadRequestsPerSecond'],
    ] as const;
    const serverDefaulted = [
      ['MaxPresenceMembersPerChannel', 'maxPresenceMembersPerChannel'],
      ['MaxPresenceMemberSizeInKb', 'maxPresenceMemberSizeInKb'],
      ['MaxChannelNameLength', 'maxChannelNameLength'],
      ['MaxEventChannelsAtOnce', 'maxEventChannelsAtOnce'],
      ['MaxEventNameLength', 'maxEventNameLength'],
      ['MaxEventPayloadInKb', 'maxEventPayloadInKb'],
      ['MaxEventBatchSize', 'maxEventBatchSize'],
    ] as const;
    const all = [...unlimitedByDefault, ...serverDefaulted];
    const read = (attribute: string, value: AttributeValue, defaults?: AppLimitDefaults) =>
      parseAppItem(appItem('n', { [attribute]: value }), defaults);

    it.each(all)('%s: any negative number is unlimited', (attribute, property) => {
      for (const text of ['-1', '-5', '-0.5', '-1e3'])
        expect(read(attribute, { N: text })[property]).toBe(UNLIMITED);
    });

    it.each(all)('%s: a positive number is kept, as N or numeric S', (attribute, property) => {
      expect(read(attribute, { N: '25' })[property]).toBe(25);
      expect(read(attribute, { S: ' 30 ' })[property]).toBe(30);
    });

    it.each(all.filter(([attribute]) => attribute !== 'MaxConnections'))(
      '%s: 0 allows nothing',
      (attribute, property) => {
        expect(read(attribute, { N: '0' })[property]).toBe(0);
      },
    );

    it('MaxConnections: 0 is unlimited, as in soketi', () => {
      expect(read('MaxConnections', { N: '0' }).maxConnections).toBe(UNLIMITED);
    });

    it.each(unlimitedByDefault)('%s: absent is unlimited', (_, property) => {
      expect(parseAppItem(appItem('n'))[property]).toBe(UNLIMITED);
    });

    it.each(serverDefaulted)('%s: absent takes the server default', (_, property) => {
      const defaults: AppLimitDefaults = {
        maxPresenceMembersPerChannel: 11,
        maxPresenceMemberSizeInKb: 1.5,
        maxChannelNameLength: 13,
        maxEventChannelsAtOnce: 14,
        maxEventNameLength: 15,
        maxEventPayloadInKb: 16,
        maxEventBatchSize: 17,
      };
      expect(parseAppItem(appItem('n'), defaults)[property]).toBe(defaults[property]);
      expect(parseAppItem(appItem('n'))[property]).toBe(DEFAULT_APP_LIMITS[property]);
    });

    it('takes fractions only for the two sizes in KB', () => {
      expect(read('MaxPresenceMemberSizeInKb', { N: '0.5' }).maxPresenceMemberSizeInKb).toBe(0.5);
      expect(read('MaxEventPayloadInKb', { N: '10.25' }).maxEventPayloadInKb).toBe(10.25);
      const integerFields = all
        .filter(([attribute]) => !attribute.endsWith('InKb'))
        .map(([attribute]) => attribute);
      const item = appItem(
        'n',
        Object.fromEntries(integerFields.map((attribute) => [attribute, { N: '1.5' }])),
      );
      expect(fieldsOf(item)).toEqual(integerFields);
    });

    it.each([
      ['S that is not a number', { S: 'ten' }],
      ['S hexadecimal', { S: '0x10' }],
      ['S empty', { S: '' }],
      ['S out of range', { S: '1e400' }],
      ['BOOL', { BOOL: true }],
      ['L', { L: [] }],
    ])('refuses %s', (_, value) => {
      expect(problemsOf(appItem('n', { MaxEventBatchSize: value as AttributeValue }))).toEqual([
        expect.stringMatching(/^MaxEventBatchSize: must be a number/),
      ]);
    });
  });

  describe('Webhooks', () => {
    const withWebhooks = (json: unknown) => appItem('w', { Webhooks: { S: JSON.stringify(json) } });

    it('maps soketi webhook objects to camelCase', () => {
      const app = parseAppItem(
        withWebhooks([
          {
            url: 'https://hooks.example/pusher',
            event_types: ['channel_occupied', 'channel_vacated'],
            filter: { channel_name_starts_with: 'presence-', channel_name_ends_with: '-room' },
            headers: { Authorization: 'Bearer t' },
          },
          {
            lambda_function: 'hook',
            lambda: { async: true, region: 'eu-west-1' },
            event_types: ['client_event'],
          },
          { url: 'http://plain.example', event_types: ['member_added'], filter: null, unknown: 1 },
        ]),
      );
      expect(app.webhooks).toEqual([
        {
          url: 'https://hooks.example/pusher',
          eventTypes: ['channel_occupied', 'channel_vacated'],
          filter: { channelNameStartsWith: 'presence-', channelNameEndsWith: '-room' },
          headers: { Authorization: 'Bearer t' },
        },
        {
          lambdaFunction: 'hook',
          lambda: { async: true, region: 'eu-west-1' },
          eventTypes: ['client_event'],
        },
        { url: 'http://plain.example', eventTypes: ['member_added'] },
      ]);
    });

    it('accepts a native list, as soketi did', () => {
      const app = parseAppItem(
        appItem('w', {
          Webhooks: {
            L: [{ M: { url: { S: 'https://a.example' }, event_types: { L: [{ S: 'cache_miss' }] } } }],
          },
        }),
      );
      expect(app.webhooks).toEqual([{ url: 'https://a.example', eventTypes: ['cache_miss'] }]);
    });

    it('names a native list it cannot read without quoting the value (a header may hold a credential)', () => {
      const token = { N: '98765432109876543210123' };
      const problems = problemsOf(
        appItem('w', {
          Webhooks: { L: [{ M: { url: { S: 'https://a.example' }, headers: { M: { 'X-Token': token } } } }] },
        }),
      );
      expect(problems).toEqual([
        'Webhooks: holds a value that cannot be read: an integer beyond 2^53, which would lose precision',
      ]);
    });

    it('is empty when absent or NULL', () => {
      expect(parseAppItem(appItem('w')).webhooks).toEqual([]);
      expect(parseAppItem(appItem('w', { Webhooks: { NULL: true } })).webhooks).toEqual([]);
    });

    it.each([
      ['not JSON', { S: '[{' }, ['Webhooks: is not valid JSON']],
      ['JSON that is not an array', { S: '{}' }, ['Webhooks: must hold a JSON array of webhook objects']],
      ['a number', { N: '1' }, ['Webhooks: must be a JSON string (S), got N']],
    ])('refuses %s', (_, value, expected) => {
      expect(problemsOf(appItem('w', { Webhooks: value as AttributeValue }))).toEqual(expected);
    });

    it('names every bad member of every webhook', () => {
      const fields = fieldsOf(
        withWebhooks([
          { url: 'https://ok.example', event_types: ['client_event'] },
          { url: 'ftp://files.example', event_types: [] },
          { lambda_function: '', event_types: ['client_event', 'nope', 3] },
          { url: 'https://a.example', lambda_function: 'f', event_types: ['member_added'] },
          {
            event_types: ['member_added'],
            filter: { channel_name_starts_with: 5 },
            lambda: { async: 'yes' },
          },
          'not an object',
          { url: 'https://b.example', event_types: 'client_event', headers: { 'Bad Name': 'x', Good: 7 } },
          {
            url: 'https://c.example',
            event_types: ['member_added'],
            filter: [],
            headers: 'x',
            lambda: { region: '' },
          },
        ]),
      );
      expect(fields).toEqual([
        'Webhooks[1].url',
        'Webhooks[1].event_types',
        'Webhooks[2].lambda_function',
        'Webhooks[2].event_types[1]',
        'Webhooks[2].event_types[2]',
        'Webhooks[3]',
        'Webhooks[4]',
        'Webhooks[4].filter.channel_name_starts_with',
        'Webhooks[4].lambda.async',
        'Webhooks[5]',
        'Webhooks[6].event_types',
        'Webhooks[6].headers',
        'Webhooks[6].headers.Good',
        'Webhooks[7].filter',
        'Webhooks[7].headers',
        'Webhooks[7].lambda.region',
      ]);
    });

    it('refuses header values with line breaks without echoing them', () => {
      const problems = problemsOf(
        withWebhooks([
          { url: 'https://a.example', event_types: ['client_event'], headers: { X: 'a\r\nInjected: 1' } },
        ]),
      );
      expect(problems).toEqual(['Webhooks[0].headers.X: must be a one-line string']);
    });

    it('collects problems of webhooks and other fields together', () => {
      expect(
        fieldsOf(appItem('w', { Enabled: { S: 'no' }, Webhooks: { S: '[1]' }, MaxConnections: { S: 'x' } })),
      ).toEqual(['Enabled', 'MaxConnections', 'Webhooks[0]']);
    });
  });
});

const EVENT_TYPES: WebhookEventType[] = [
  'channel_occupied',
  'channel_vacated',
  'member_added',
  'member_removed',
  'client_event',
  'cache_miss',
  'subscription_count',
];

const limit = (integer: boolean) =>
  fc.oneof(
    fc.constant(UNLIMITED),
    integer
      ? fc.nat()
      : fc.double({ min: 0, max: 1e6, noNaN: true, noDefaultInfinity: true }).map((n) => n + 0),
  );

const webhookArbitrary: fc.Arbitrary<Webhook> = fc
  .record(
    {
      target: fc.oneof(
        fc.webUrl().map((url) => ({ url })),
        fc.string({ minLength: 1 }).map((lambdaFunction) => ({ lambdaFunction })),
      ),
      eventTypes: fc.array(fc.constantFrom(...EVENT_TYPES), { minLength: 1, maxLength: 4 }),
      filter: fc.record(
        { channelNameStartsWith: fc.string(), channelNameEndsWith: fc.string() },
        { requiredKeys: [], noNullPrototype: true },
      ),
      headers: fc.dictionary(fc.stringMatching(/^[A-Za-z0-9-]{1,12}$/), fc.stringMatching(/^[ -~]{0,20}$/), {
        noNullPrototype: true,
      }),
      lambda: fc.record(
        { async: fc.boolean(), region: fc.string({ minLength: 1 }) },
        { requiredKeys: [], noNullPrototype: true },
      ),
    },
    { requiredKeys: ['target', 'eventTypes'], noNullPrototype: true },
  )
  .map(({ target, ...rest }) => ({ ...target, ...rest }));

const appArbitrary: fc.Arbitrary<App> = fc.record(
  {
    id: fc.string({ minLength: 1 }),
    key: fc.string({ minLength: 1 }),
    secret: fc.string({ minLength: 1 }),
    enabled: fc.boolean(),
    enableClientMessages: fc.boolean(),
    enableUserAuthentication: fc.boolean(),
    maxConnections: fc.oneof(fc.constant(UNLIMITED), fc.integer({ min: 1 })),
    maxBackendEventsPerSecond: limit(true),
    maxClientEventsPerSecond: limit(true),
    maxReadRequestsPerSecond: limit(true),
    maxPresenceMembersPerChannel: limit(true),
    maxPresenceMemberSizeInKb: limit(false),
    maxChannelNameLength: limit(true),
    maxEventChannelsAtOnce: limit(true),
    maxEventNameLength: limit(true),
    maxEventPayloadInKb: limit(false),
    maxEventBatchSize: limit(true),
    webhooks: fc.array(webhookArbitrary, { maxLength: 3 }),
  },
  { noNullPrototype: true },
);

describe('toAppItem', () => {
  it('round-trips every valid app through parseAppItem', () => {
    fc.assert(
      fc.property(appArbitrary, (app) => {
        expect(parseAppItem(toAppItem(app))).toStrictEqual(app);
      }),
      { numRuns: 300 },
    );
  });

  it('writes the canonical item: BOOL booleans, N numbers with -1 for unlimited, snake_case Webhooks JSON', () => {
    const item = toAppItem({
      ...SEED_EXAMPLE_APP,
      maxEventBatchSize: 0,
      webhooks: [
        { lambdaFunction: 'f', eventTypes: ['client_event'], filter: { channelNameEndsWith: '-x' } },
      ],
    });
    expect(item).toEqual({
      AppId: { S: 'app-id' },
      AppKey: { S: 'app-key' },
      AppSecret: { S: 'app-secret' },
      Enabled: { BOOL: true },
      EnableClientMessages: { BOOL: false },
      EnableUserAuthentication: { BOOL: false },
      MaxConnections: { N: '-1' },
      MaxBackendEventsPerSecond: { N: '-1' },
      MaxClientEventsPerSecond: { N: '-1' },
      MaxReadRequestsPerSecond: { N: '-1' },
      MaxPresenceMembersPerChannel: { N: '100' },
      MaxPresenceMemberSizeInKb: { N: '2' },
      MaxChannelNameLength: { N: '200' },
      MaxEventChannelsAtOnce: { N: '100' },
      MaxEventNameLength: { N: '200' },
      MaxEventPayloadInKb: { N: '100' },
      MaxEventBatchSize: { N: '0' },
      Webhooks: {
        S: '[{"lambda_function":"f","event_types":["client_event"],"filter":{"channel_name_ends_with":"-x"}}]',
      },
    });
  });

  it('refuses an app the resolver would not read back as it is', () => {
    const refused = (app: App) => {
      try {
        toAppItem(app);
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidAppItemError);
        return (error as InvalidAppItemError).problems.map((p) => p.field);
      }
      throw new Error('expected toAppItem to refuse the app');
    };
    expect(refused({ ...SEED_EXAMPLE_APP, maxConnections: 0 })).toEqual(['MaxConnections']);
    expect(
      refused({ ...SEED_EXAMPLE_APP, secret: '', maxEventBatchSize: 2.5, maxEventNameLength: Number.NaN }),
    ).toEqual(['AppSecret', 'MaxEventNameLength', 'MaxEventBatchSize']);
    expect(refused({ ...SEED_EXAMPLE_APP, webhooks: [{ url: 'mailto:x@y', eventTypes: [] }] })).toEqual([
      'Webhooks[0].url',
      'Webhooks[0].event_types',
    ]);
  });
});
