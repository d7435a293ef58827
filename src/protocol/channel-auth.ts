import { createHash } from 'node:crypto';
import type { App } from '../apps/app.js';
import { InvalidEncryptionMasterKeyError } from '../errors/errors.js';
import { signAuth, verifyAuth } from './hmac.js';

export interface SignChannelInput {
  readonly key: string;
  readonly secret: string;
  readonly socketId: string;
  readonly channel: string;
  /** Presence channels: the exact JSON string sent as `channel_data` (serialize once, sign that string). */
  readonly channelData?: string;
}

export interface ChannelAuthorization {
  readonly auth: string;
  readonly channel_data?: string;
}

export interface VerifyChannelAuthInput {
  readonly app: Pick<App, 'key' | 'secret'>;
  readonly socketId: string;
  readonly channel: string;
  /** The `channel_data` string exactly as the client sent it; never re-serialized. */
  readonly channelData?: string;
  readonly auth: string;
}

const MASTER_KEY_BASE64 = /^[A-Za-z0-9+/]{43}=$/;

/**
 * Authorizes a subscription as an auth endpoint does: `auth` is `<key>:<hex HMAC-SHA256>` of
 * `<socket_id>:<channel>`, plus `:<channel_data>` when channel data is given (presence channels).
 */
export function signChannel({
  key,
  secret,
  socketId,
  channel,
  channelData,
}: SignChannelInput): ChannelAuthorization {
  const auth = signAuth(key, secret, channelStringToSign(socketId, channel, channelData));
  return channelData ? { auth, channel_data: channelData } : { auth };
}

/** Whether `auth` is exactly the app's `<key>:<signature>` for this subscription; constant-time compare. */
export function verifyChannelAuth({
  app,
  socketId,
  channel,
  channelData,
  auth,
}: VerifyChannelAuthInput): boolean {
  return verifyAuth(app, channelStringToSign(socketId, channel, channelData), auth);
}

/**
 * The `shared_secret` of an encrypted channel: base64(SHA-256(channel name bytes ‖ master key bytes)).
 * The master key is the app's 32-byte key in base64 (44 characters).
 *
 * @throws InvalidEncryptionMasterKeyError when the master key is not base64 of 32 bytes.
 */
export function sharedSecretForEncryptedChannel(channel: string, masterKeyBase64: string): string {
  if (!MASTER_KEY_BASE64.test(masterKeyBase64)) {
    throw new InvalidEncryptionMasterKeyError(
      'The encryption master key must be 32 bytes in base64 (44 characters)',
    );
  }
  return createHash('sha256').update(channel).update(Buffer.from(masterKeyBase64, 'base64')).digest('base64');
}

// An empty channel_data is left out, as the SDKs do (`if (data)`).
function channelStringToSign(socketId: string, channel: string, channelData: string | undefined): string {
  return channelData ? `${socketId}:${channel}:${channelData}` : `${socketId}:${channel}`;
}
