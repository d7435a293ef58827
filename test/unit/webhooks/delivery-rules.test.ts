import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Webhook } from '../../../src/apps/app.js';
import { signWebhook } from '../../../src/protocol/webhook-signature.js';
import { isBlockedAddress } from '../../../src/webhooks/address-guard.js';
import {
  bodiesFor,
  MAX_EVENTS_PER_BODY,
  signedBody,
  wants,
  webhookById,
  webhookIdOf,
} from '../../../src/webhooks/bodies.js';
import { mayInvoke } from '../../../src/webhooks/config.js';
import { channelOccupied, memberAdded, type WebhookEvent } from '../../../src/webhooks/events.js';
import { backoffSeconds, nextAttemptDelay, outcomeOfStatus } from '../../../src/webhooks/retry.js';
import { testApp } from '../../fixtures/apps/items.js';

const hook = (overrides: Partial<Webhook> = {}): Webhook => ({
  url: 'https://hooks.example/in',
  eventTypes: ['channel_occupied', 'member_added'],
  ...overrides,
});

describe('which events a webhook gets', () => {
  it('its event types, through both filter parts AND-ed on the channel name', () => {
    const filtered = hook({ filter: { channelNameStartsWith: 'presence-', channelNameEndsWith: '-room' } });
    expect(wants(filtered, memberAdded('presence-a-room', 'u'))).toBe(true);
    expect(wants(filtered, memberAdded('presence-a', 'u'))).toBe(false);
    expect(wants(filtered, memberAdded('private-a-room', 'u'))).toBe(false);
    expect(wants(hook(), { name: 'channel_vacated', channel: 'c' })).toBe(false);
  });

  it("one event per body without batching; with it, at most 100, only the webhook's own, the oldest time_ms", () => {
    const raised = Array.from({ length: 250 }, (_, i) => ({
      timeMs: 1000 + i,
      event: (i % 2 === 0
        ? channelOccupied(`c${i}`)
        : { name: 'channel_vacated', channel: `c${i}` }) as WebhookEvent,
    }));
    expect(bodiesFor(hook(), raised, false)).toHaveLength(125);
    const batched = bodiesFor(hook(), raised, true);
    expect(batched.map(({ body }) => body.events.length)).toEqual([100, 25]);
    expect(batched[0]!.body.timeMs).toBe(1000);
    expect(
      batched.flatMap(({ body }) => body.events).every((event) => event.name === 'channel_occupied'),
    ).toBe(true);
    expect(MAX_EVENTS_PER_BODY).toBe(100);
  });
});

describe('signedBody', () => {
  it('reproduces the reference vector: key 123456789, secret tofu', () => {
    const app = testApp('v', { key: '123456789', secret: 'tofu' });
    const signed = signedBody(app, hook({ eventTypes: ['channel_vacated'] }), {
      timeMs: 1403175510755,
      events: [{ name: 'channel_vacated', channel: 'test_channel' }],
    });
    expect(signed.body).toBe(
      '{"time_ms":1403175510755,"events":[{"name":"channel_vacated","channel":"test_channel"}]}',
    );
    // The vector's own body (its members in another order) signs to the vector's signature.
    expect(
      signWebhook(
        '{"time_ms":1403175510755,"events":[{"channel":"test_channel","name":"channel_vacated"}]}',
        'tofu',
      ),
    ).toBe('c17257e92037cd7de407ebc1ed174ceb7b2e518db127f44411b9ffc4f5b28cc5');
    expect(signed.headers['X-Pusher-Signature']).toBe(signWebhook(signed.body, 'tofu'));
    expect(signed.headers['X-Pusher-Key']).toBe('123456789');
    expect(signed.headers['Content-Type']).toBe('application/json');
  });

  it('lets custom headers through but never over Content-Type or X-Pusher-*', () => {
    const app = testApp('h');
    const signed = signedBody(
      app,
      hook({
        headers: {
          'X-Token': 't',
          'content-type': 'text/plain',
          'x-pusher-key': 'forged',
          'X-Pusher-Signature': 'f',
        },
      }),
      { timeMs: 1, events: [channelOccupied('c')] },
    );
    expect(signed.headers['X-Token']).toBe('t');
    expect(
      Object.keys(signed.headers)
        .filter((name) => /content-type|x-pusher/i.test(name))
        .sort(),
    ).toEqual(['Content-Type', 'X-Pusher-Key', 'X-Pusher-Signature']);
    expect(signed.headers['X-Pusher-Key']).toBe(app.key);
  });
});

describe('webhook ids across retries', () => {
  it('find the webhook at its place, or moved, and nothing once it is gone or changed', () => {
    const first = hook();
    const second = hook({ url: 'https://other.example/in' });
    const id = webhookIdOf(second, 1);
    expect(webhookById(testApp('a', { webhooks: [first, second] }), id)?.webhook).toBe(second);
    expect(webhookById(testApp('a', { webhooks: [second] }), id)?.index).toBe(0);
    expect(webhookById(testApp('a', { webhooks: [first] }), id)).toBeUndefined();
    // Two webhooks with the same URL are two webhooks: each keeps its own id.
    expect(webhookIdOf(first, 0)).not.toBe(webhookIdOf(first, 1));
  });
});

describe('retry policy', () => {
  it('retries network-like answers (408, 409, 425, 429, 5xx) and takes every other non-2xx as final', () => {
    expect(outcomeOfStatus(204).kind).toBe('delivered');
    for (const status of [408, 409, 425, 429, 500, 503])
      expect(outcomeOfStatus(status).kind, `${status}`).toBe('retry');
    for (const status of [301, 400, 401, 404, 410])
      expect(outcomeOfStatus(status).kind, `${status}`).toBe('permanent');
  });

  it('backs off 1, 2, 4 … 60 s with jitter in the upper half, and stops at the budget', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (attempts, r) => {
          const ceiling = Math.min(60, 2 ** (attempts - 1));
          const delay = backoffSeconds(attempts, () => r);
          expect(delay).toBeGreaterThanOrEqual(Math.max(1, Math.ceil(ceiling / 2)));
          expect(delay).toBeLessThanOrEqual(Math.max(1, ceiling));
        },
      ),
    );
    expect(nextAttemptDelay(1, 0, 270_000, 269_500, () => 1)).toBeUndefined();
    expect(nextAttemptDelay(1, 0, 270_000, 260_000, () => 1)).toBe(1);
  });
});

describe('address guard', () => {
  it('refuses loopback, private, shared, link-local and unspecified addresses, in every IPv6 spelling', () => {
    const refused = [
      ...[
        '127.0.0.1',
        '10.1.2.3',
        '172.31.255.255',
        '192.168.0.1',
        '169.254.169.254',
        '100.64.0.1',
        '0.0.0.0',
      ],
      ...['::1', '::', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:a9fe:a9fe', '64:ff9b::a00:1'],
      'not an address',
    ];
    expect(refused.filter((address) => !isBlockedAddress(address))).toEqual([]);
  });

  it('lets public addresses through, IPv4-mapped ones included', () => {
    const allowed = ['93.184.216.34', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8', '172.32.0.1'];
    expect(allowed.filter(isBlockedAddress)).toEqual([]);
  });
});

describe('which functions a stage may invoke', () => {
  it('the names and prefixes listed, none by default', () => {
    expect(mayInvoke([], 'audit')).toBe(false);
    expect(mayInvoke(['audit'], 'audit')).toBe(true);
    expect(mayInvoke(['audit'], 'audit-2')).toBe(false);
    expect(mayInvoke(['hooks-*'], 'hooks-prod')).toBe(true);
    expect(mayInvoke(['*'], 'anything')).toBe(true);
  });
});
