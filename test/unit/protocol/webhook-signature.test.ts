import Pusher from 'pusher';
import { describe, expect, it } from 'vitest';
import { signWebhook } from '../../../src/protocol/index.js';

const app = { appId: '1', key: 'webhook-key', secret: 'webhook-secret', host: '127.0.0.1' };
const body = JSON.stringify({
  time_ms: 1700000000000,
  events: [{ name: 'channel_occupied', channel: 'presence-é' }],
});

/** Checks a webhook the way receivers do: with the pusher SDK's own WebHook validation. */
function sdkAccepts(rawBody: string, signature: string, secret = app.secret): boolean {
  const receiver = new Pusher({ ...app, secret });
  return receiver
    .webhook({
      headers: {
        'x-pusher-key': app.key,
        'x-pusher-signature': signature,
        'content-type': 'application/json',
      },
      rawBody,
    })
    .isValid();
}

describe('signWebhook', () => {
  it("gives an X-Pusher-Signature the pusher SDK's webhook validation accepts", () => {
    expect(sdkAccepts(body, signWebhook(body, app.secret))).toBe(true);
  });

  it('signs the exact bytes: another secret or a re-serialized body fails', () => {
    const signature = signWebhook(body, app.secret);
    expect(sdkAccepts(body, signature, 'another-secret')).toBe(false);
    expect(sdkAccepts(JSON.stringify(JSON.parse(body), null, 1), signature)).toBe(false);
  });

  it('signs a string as its UTF-8 bytes, in lowercase hex', () => {
    const signature = signWebhook(body, app.secret);
    expect(signWebhook(Buffer.from(body, 'utf8'), app.secret)).toBe(signature);
    expect(signature).toMatch(/^[0-9a-f]{64}$/);
  });
});
