// Interop with real clients: the pusher SDK (server side) signs requests to a loopback HTTP server, which
// captures the method, the raw URL and the body exactly as they arrive; the captures are then verified.
// Requests as the Java, PHP, .NET and python SDKs build them are sent the same way, signed with a bare
// createHmac over a string to sign written out by hand.
import { createHash, createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Pusher from 'pusher';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  EMPTY_BODY_MD5,
  sharedSecretForEncryptedChannel,
  type VerifyResult,
  verifyChannelAuth,
  verifyRawRequest,
  verifyUserAuth,
} from '../../../src/protocol/index.js';

const app = { id: '42', key: 'interop-key-0123', secret: 'interop-secret-4567' };
const MASTER_KEY = Buffer.alloc(32, 9).toString('base64');
const SOCKET_ID = '123.456';

interface CapturedRequest {
  readonly method: string;
  readonly url: string;
  readonly body: string;
}

let server: Server;
let port: number;
let captured: CapturedRequest[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      captured.push({
        method: request.method!,
        url: request.url!,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  captured = [];
});

function sdk(secret = app.secret): Pusher {
  return new Pusher({
    appId: app.id,
    key: app.key,
    secret,
    host: '127.0.0.1',
    port: String(port),
    useTLS: false,
    encryptionMasterKeyBase64: MASTER_KEY,
  });
}

function onlyRequest(): CapturedRequest {
  expect(captured).toHaveLength(1);
  return captured[0]!;
}

function verifyCaptured(request: CapturedRequest, secret = app.secret): VerifyResult {
  const queryStart = request.url.indexOf('?');
  return verifyRawRequest({
    method: request.method,
    path: request.url.slice(0, queryStart),
    rawQueryString: request.url.slice(queryStart + 1),
    body: request.body,
    app: { key: app.key, secret },
  });
}

describe('the pusher SDK as the signer', () => {
  it('trigger to one channel verifies', async () => {
    await sdk().trigger('my-channel', 'my-event', { message: 'hello é 😀' });
    const request = onlyRequest();
    expect(request.url).toMatch(new RegExp(`^/apps/${app.id}/events\\?.*body_md5=`));
    expect(verifyCaptured(request)).toEqual({ ok: true });
  });

  it('trigger to several channels verifies', async () => {
    await sdk().trigger(['channel-a', 'private-b', 'presence-c'], 'my-event', 'text', {
      socket_id: SOCKET_ID,
    });
    const request = onlyRequest();
    expect(JSON.parse(request.body)).toMatchObject({ channels: ['channel-a', 'private-b', 'presence-c'] });
    expect(verifyCaptured(request)).toEqual({ ok: true });
  });

  it('triggerBatch verifies', async () => {
    await sdk().triggerBatch([
      { channel: 'channel-a', name: 'first', data: { n: 1 } },
      { channel: 'private-encrypted-x', name: 'second', data: { n: 2 } },
    ]);
    const request = onlyRequest();
    expect(request.url).toMatch(new RegExp(`^/apps/${app.id}/batch_events\\?`));
    expect(verifyCaptured(request)).toEqual({ ok: true });
  });

  it('sendToUser and terminateUserConnections verify', async () => {
    await sdk().sendToUser('user-1', 'my-event', { a: 1 });
    await sdk().terminateUserConnections('user-1');
    expect(captured).toHaveLength(2);
    expect(JSON.parse(captured[0]!.body)).toMatchObject({ channels: ['#server-to-user-user-1'] });
    for (const request of captured) expect(verifyCaptured(request)).toEqual({ ok: true });
  });

  it('get /channels with info and a filter_by_prefix holding a space and non-ASCII verifies', async () => {
    await sdk().get({
      path: '/channels',
      params: { info: 'user_count', filter_by_prefix: 'presence-a b/é' },
    });
    const request = onlyRequest();
    expect(request.method).toBe('GET');
    expect(request.body).toBe('');
    expect(request.url).toContain('filter_by_prefix=presence-a%20b/%C3%A9');
    expect(request.url).not.toContain('body_md5');
    expect(verifyCaptured(request)).toEqual({ ok: true });
  });

  it('get /channels/{channel} with a comma-separated info verifies', async () => {
    await sdk().get({ path: '/channels/presence-room', params: { info: 'user_count,subscription_count' } });
    expect(verifyCaptured(onlyRequest())).toEqual({ ok: true });
  });

  it('a wrong secret fails with 401 Invalid signature', async () => {
    await sdk('not-the-secret').trigger('my-channel', 'my-event', {});
    const result = verifyCaptured(onlyRequest());
    expect(result).toMatchObject({ ok: false, status: 401 });
    expect(result.ok || result.message).toMatch(
      /^Invalid signature: you should have sent HmacSHA256Hex\("POST\\n/,
    );
  });

  it('a body changed on the way fails', async () => {
    await sdk().trigger('my-channel', 'my-event', { amount: 1 });
    const request = onlyRequest();
    expect(verifyCaptured({ ...request, body: request.body.replace('1', '9') })).toMatchObject({
      ok: false,
      status: 401,
    });
  });

  it('authorizeChannel for a private channel verifies', () => {
    const { auth } = sdk().authorizeChannel(SOCKET_ID, 'private-orders');
    const input = { app, socketId: SOCKET_ID, channel: 'private-orders', auth };
    expect(verifyChannelAuth(input)).toBe(true);
    expect(verifyChannelAuth({ ...input, app: { ...app, secret: 'not-the-secret' } })).toBe(false);
  });

  it('authorizeChannel for a presence channel verifies with the channel_data it returns', () => {
    const member = { user_id: 'user-1', user_info: { name: 'Zoë', url: 'https://x/y' } };
    const { auth, channel_data: channelData } = sdk().authorizeChannel(SOCKET_ID, 'presence-room', member);
    expect(channelData).toBe(JSON.stringify(member));
    expect(verifyChannelAuth({ app, socketId: SOCKET_ID, channel: 'presence-room', channelData, auth })).toBe(
      true,
    );
    expect(verifyChannelAuth({ app, socketId: SOCKET_ID, channel: 'presence-room', auth })).toBe(false);
  });

  it('authorizeChannel for an encrypted channel gives the shared secret derived here', () => {
    const authorization = sdk().authorizeChannel(SOCKET_ID, 'private-encrypted-vault');
    expect(authorization.shared_secret).toBe(
      sharedSecretForEncryptedChannel('private-encrypted-vault', MASTER_KEY),
    );
    expect(
      verifyChannelAuth({
        app,
        socketId: SOCKET_ID,
        channel: 'private-encrypted-vault',
        auth: authorization.auth,
      }),
    ).toBe(true);
  });

  it('authenticateUser verifies with the user_data it returns', () => {
    const { auth, user_data: userData } = sdk().authenticateUser(SOCKET_ID, {
      id: 'user-1',
      user_info: { name: 'Zoë' },
      watchlist: ['user-2'],
    });
    expect(verifyUserAuth({ app, socketId: SOCKET_ID, userData, auth })).toBe(true);
    expect(
      verifyUserAuth({ app: { ...app, secret: 'not-the-secret' }, socketId: SOCKET_ID, userData, auth }),
    ).toBe(false);
  });
});

describe('requests as the other SDKs build them', () => {
  const md5 = (body: string) => createHash('md5').update(body).digest('hex');
  const hmac = (toSign: string) => createHmac('sha256', app.secret).update(toSign).digest('hex');
  const now = () => Math.floor(Date.now() / 1000);

  async function send(method: string, pathAndQuery: string, body?: string): Promise<CapturedRequest> {
    const response = await fetch(`http://127.0.0.1:${port}${pathAndQuery}`, { method, body });
    expect(response.status).toBe(200);
    const request = onlyRequest();
    expect(request.url).toBe(pathAndQuery);
    return request;
  }

  it('Java: values form-escaped by URIBuilder (+ for space, %2F, %2C), auth_signature mid-query', async () => {
    const ts = now();
    const toSign = `GET\n/apps/42/channels\nauth_key=${app.key}&auth_timestamp=${ts}&auth_version=1.0&filter_by_prefix=presence-a b/é&info=user_count,subscription_count`;
    const query = `auth_key=${app.key}&auth_version=1.0&auth_signature=${hmac(toSign)}&filter_by_prefix=presence-a+b%2F%C3%A9&auth_timestamp=${ts}&info=user_count%2Csubscription_count`;
    expect(verifyCaptured(await send('GET', `/apps/42/channels?${query}`))).toEqual({ ok: true });
  });

  it('Java: a trigger with an escaped path and a body', async () => {
    const ts = now();
    const body = '{"name":"my-event","channels":["my-channel"],"data":"{\\"a\\":\\"b c\\"}"}';
    const toSign = `POST\n/apps/42/events\nauth_key=${app.key}&auth_timestamp=${ts}&auth_version=1.0&body_md5=${md5(body)}`;
    const query = `auth_key=${app.key}&auth_timestamp=${ts}&auth_version=1.0&body_md5=${md5(body)}&auth_signature=${hmac(toSign)}`;
    expect(verifyCaptured(await send('POST', `/apps/%34%32/events?${query}`, body))).toEqual({ ok: true });
  });

  it('PHP: values escaped by Guzzle (%20, %2C), body_md5 even for a body of {}', async () => {
    const ts = now();
    const getToSign = `GET\n/apps/42/channels/presence-room\nauth_key=${app.key}&auth_timestamp=${ts}&auth_version=1.0&info=user_count,subscription_count`;
    const getQuery = `auth_key=${app.key}&auth_signature=${hmac(getToSign)}&auth_timestamp=${ts}&auth_version=1.0&info=user_count%2Csubscription_count`;
    expect(verifyCaptured(await send('GET', `/apps/42/channels/presence-room?${getQuery}`))).toEqual({
      ok: true,
    });

    captured = [];
    const postToSign = `POST\n/apps/42/users/user-1/terminate_connections\nauth_key=${app.key}&auth_timestamp=${ts}&auth_version=1.0&body_md5=${md5('{}')}`;
    const postQuery = `auth_key=${app.key}&auth_signature=${hmac(postToSign)}&auth_timestamp=${ts}&auth_version=1.0&body_md5=${md5('{}')}`;
    const request = await send('POST', `/apps/42/users/user-1/terminate_connections?${postQuery}`, '{}');
    expect(verifyCaptured(request)).toEqual({ ok: true });
  });

  it('.NET: auth_signature first in the URL', async () => {
    const ts = now();
    const body = '{"name":"my-event","channel":"my-channel","data":"x"}';
    const toSign = `POST\n/apps/42/events\nauth_key=${app.key}&auth_timestamp=${ts}&auth_version=1.0&body_md5=${md5(body)}`;
    const query = `auth_signature=${hmac(toSign)}&auth_key=${app.key}&auth_timestamp=${ts}&auth_version=1.0&body_md5=${md5(body)}`;
    expect(verifyCaptured(await send('POST', `/apps/42/events?${query}`, body))).toEqual({ ok: true });
  });

  it("python: a GET carrying the empty body's MD5, and a POST body with spaces", async () => {
    const ts = now();
    const getToSign = `GET\n/apps/42/channels\nauth_key=${app.key}&auth_timestamp=${ts}&auth_version=1.0&body_md5=${EMPTY_BODY_MD5}&filter_by_prefix=presence-`;
    const getQuery = `auth_key=${app.key}&auth_timestamp=${ts}&auth_version=1.0&body_md5=${EMPTY_BODY_MD5}&filter_by_prefix=presence-&auth_signature=${hmac(getToSign)}`;
    expect(verifyCaptured(await send('GET', `/apps/42/channels?${getQuery}`))).toEqual({ ok: true });

    captured = [];
    const body = '{"name": "my-event", "channels": ["my-channel"], "data": "{\\"a\\": 1}"}';
    const postToSign = `POST\n/apps/42/events\nauth_key=${app.key}&auth_timestamp=${ts}&auth_version=1.0&body_md5=${md5(body)}`;
    const postQuery = `auth_key=${app.key}&auth_timestamp=${ts}&auth_version=1.0&body_md5=${md5(body)}&auth_signature=${hmac(postToSign)}`;
    expect(verifyCaptured(await send('POST', `/apps/42/events?${postQuery}`, body))).toEqual({ ok: true });
  });

  it('the same requests fail when signed with another secret', async () => {
    const ts = now();
    const toSign = `GET\n/apps/42/channels\nauth_key=${app.key}&auth_timestamp=${ts}&auth_version=1.0&filter_by_prefix=presence-a b/é`;
    const signature = createHmac('sha256', 'another-secret').update(toSign).digest('hex');
    const query = `auth_signature=${signature}&auth_key=${app.key}&auth_timestamp=${ts}&auth_version=1.0&filter_by_prefix=presence-a+b%2F%C3%A9`;
    expect(verifyCaptured(await send('GET', `/apps/42/channels?${query}`))).toMatchObject({
      ok: false,
      status: 401,
    });
  });
});
