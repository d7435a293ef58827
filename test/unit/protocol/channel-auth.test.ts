import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidEncryptionMasterKeyError } from '../../../src/errors/errors.js';
import {
  sharedSecretForEncryptedChannel,
  signChannel,
  verifyChannelAuth,
} from '../../../src/protocol/index.js';
import {
  DOCS_APP,
  DOCS_PRESENCE,
  DOCS_PRIVATE,
  DOCS_SOCKET_ID,
  ENCRYPTED_CHANNEL,
} from '../../fixtures/protocol/vectors.js';

const credentials = { key: DOCS_APP.key, secret: DOCS_APP.secret };
const app = credentials;

describe('signChannel', () => {
  it('reproduces the docs private-channel vector', () => {
    expect(signChannel({ ...credentials, socketId: DOCS_SOCKET_ID, channel: DOCS_PRIVATE.channel })).toEqual({
      auth: DOCS_PRIVATE.auth,
    });
  });

  it.each(DOCS_PRESENCE.pairings)(
    'reproduces the corrected presence pairing $signature',
    ({ channelData, signature }) => {
      expect(
        signChannel({
          ...credentials,
          socketId: DOCS_SOCKET_ID,
          channel: DOCS_PRESENCE.channel,
          channelData,
        }),
      ).toEqual({ auth: `${DOCS_APP.key}:${signature}`, channel_data: channelData });
    },
  );

  it('leaves an empty channel_data out, as the SDKs do', () => {
    expect(
      signChannel({
        ...credentials,
        socketId: DOCS_SOCKET_ID,
        channel: DOCS_PRIVATE.channel,
        channelData: '',
      }),
    ).toEqual({ auth: DOCS_PRIVATE.auth });
  });
});

describe('verifyChannelAuth', () => {
  const privateInput = {
    app,
    socketId: DOCS_SOCKET_ID,
    channel: DOCS_PRIVATE.channel,
    auth: DOCS_PRIVATE.auth,
  };
  const mrPusher = DOCS_PRESENCE.pairings[0];
  const presenceInput = {
    app,
    socketId: DOCS_SOCKET_ID,
    channel: DOCS_PRESENCE.channel,
    channelData: mrPusher.channelData,
    auth: `${DOCS_APP.key}:${mrPusher.signature}`,
  };

  it('accepts the docs vectors', () => {
    expect(verifyChannelAuth(privateInput)).toBe(true);
    expect(verifyChannelAuth(presenceInput)).toBe(true);
  });

  it('signs the channel_data string exactly as sent: a re-serialized copy does not verify', () => {
    const respaced = JSON.stringify(JSON.parse(mrPusher.channelData), null, 1);
    expect(verifyChannelAuth({ ...presenceInput, channelData: respaced })).toBe(false);
    expect(verifyChannelAuth({ ...presenceInput, channelData: DOCS_PRESENCE.pairings[1].channelData })).toBe(
      false,
    );
    expect(verifyChannelAuth({ ...presenceInput, channelData: undefined })).toBe(false);
  });

  it.each([
    ['another socket', { socketId: '1234.1235' }],
    ['another channel', { channel: 'private-foobaz' }],
    ['another app key', { app: { key: 'another-key', secret: DOCS_APP.secret } }],
    ['another secret', { app: { key: DOCS_APP.key, secret: 'another-secret' } }],
  ])('rejects %s', (_, change) => {
    expect(verifyChannelAuth({ ...privateInput, ...change })).toBe(false);
  });

  const signature = DOCS_PRIVATE.auth.slice(DOCS_APP.key.length + 1);
  it.each([
    ['the signature alone', signature],
    ['the key twice', `${DOCS_APP.key}:${DOCS_PRIVATE.auth}`],
    ['::user:: as the docs misprint it', `${DOCS_APP.key}::user::${signature}`],
    ['an upper-case signature', `${DOCS_APP.key}:${signature.toUpperCase()}`],
    ['a short signature', DOCS_PRIVATE.auth.slice(0, -1)],
    ['a trailing space', `${DOCS_PRIVATE.auth} `],
    ['another separator', `${DOCS_APP.key};${signature}`],
    ['an empty auth', ''],
  ])('rejects %s', (_, auth) => {
    expect(verifyChannelAuth({ ...privateInput, auth })).toBe(false);
  });

  it('rejects a non-string auth from parsed JSON without throwing', () => {
    expect(verifyChannelAuth({ ...privateInput, auth: 42 as unknown as string })).toBe(false);
  });
});

describe('sharedSecretForEncryptedChannel', () => {
  it('reproduces the published vector', () => {
    expect(
      sharedSecretForEncryptedChannel(ENCRYPTED_CHANNEL.channel, ENCRYPTED_CHANNEL.masterKeyBase64),
    ).toBe(ENCRYPTED_CHANNEL.sharedSecret);
  });

  it('depends on the channel name', () => {
    expect(
      sharedSecretForEncryptedChannel('private-encrypted-other', ENCRYPTED_CHANNEL.masterKeyBase64),
    ).not.toBe(ENCRYPTED_CHANNEL.sharedSecret);
  });

  it.each([
    ['31 bytes', Buffer.alloc(31, 7).toString('base64')],
    ['33 bytes', Buffer.alloc(33, 7).toString('base64')],
    ['32 raw characters', 'k'.repeat(32)],
    ['base64url', ENCRYPTED_CHANNEL.masterKeyBase64.replace('/', '_')],
  ])('refuses a master key of %s without quoting it', (_, masterKey) => {
    expect(() => sharedSecretForEncryptedChannel(ENCRYPTED_CHANNEL.channel, masterKey)).toThrow(
      InvalidEncryptionMasterKeyError,
    );
    expect(() => sharedSecretForEncryptedChannel(ENCRYPTED_CHANNEL.channel, masterKey)).not.toThrow(
      masterKey,
    );
  });

  it('is not part of the signature', () => {
    const auth = signChannel({
      ...credentials,
      socketId: DOCS_SOCKET_ID,
      channel: ENCRYPTED_CHANNEL.channel,
    }).auth;
    const expected = createHmac('sha256', DOCS_APP.secret)
      .update(`${DOCS_SOCKET_ID}:${ENCRYPTED_CHANNEL.channel}`)
      .digest('hex');
    expect(auth).toBe(`${DOCS_APP.key}:${expected}`);
  });
});
