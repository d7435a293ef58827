import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import Pusher from 'pusher';
import { afterAll, beforeAll } from 'vitest';
import { listen } from '../../src/local/net.js';

/** The credentials an app's backend signs with. */
export interface SigningApp {
  readonly id: string;
  readonly key: string;
  readonly secret: string;
}

/**
 * What a pusher-js client sends as extra form parameters (`channelAuthorization.params` /
 * `userAuthentication.params`) to choose how this backend answers it.
 */
export interface AuthParams {
  /** The user id for presence `channel_data` and for signin. Without it, presence and signin are refused. */
  readonly user_id?: string;
  /** `user_info.name` of that user. */
  readonly user_name?: string;
  /** `'true'` signs with a wrong secret, as a forger who knows the key but not the secret would. */
  readonly forge?: 'true';
}

/** One request pusher-js made to the backend, with its form fields. */
export interface AuthRequest {
  readonly path: string;
  readonly fields: Readonly<Record<string, string>>;
}

export interface AuthServer {
  /** `channelAuthorization.endpoint`: POST form `socket_id`, `channel_name` → `authorizeChannel`. */
  readonly channelEndpoint: string;
  /** `userAuthentication.endpoint`: POST form `socket_id` → `authenticateUser`. */
  readonly userEndpoint: string;
  /** Every request answered so far, oldest first. */
  readonly requests: readonly AuthRequest[];
  close(): Promise<void>;
}

export const CHANNEL_AUTH_PATH = '/pusher/auth';
export const USER_AUTH_PATH = '/pusher/user-auth';

/** The secret a forger signs with: the key is public, the secret is not. */
const FORGED_SECRET = 'a-guessed-secret';

/**
 * An app backend on a random loopback port that signs with the real `pusher` server SDK, the way an
 * application's `/pusher/auth` and `/pusher/user-auth` routes do. Refusals are 403, as Pusher documents.
 */
export async function startAuthServer(
  app: SigningApp,
  options: { readonly encryptionMasterKeyBase64?: string } = {},
): Promise<AuthServer> {
  const signer = (secret: string) =>
    new Pusher({
      appId: app.id,
      key: app.key,
      secret,
      // Signing never leaves the process; the SDK insists on a host all the same.
      host: '127.0.0.1',
      ...(options.encryptionMasterKeyBase64 && {
        encryptionMasterKeyBase64: options.encryptionMasterKeyBase64,
      }),
    });
  const genuine = signer(app.secret);
  const forged = signer(FORGED_SECRET);
  const requests: AuthRequest[] = [];

  const answer = (path: string, fields: Record<string, string>): unknown => {
    const sdk = fields.forge === 'true' ? forged : genuine;
    const socketId = fields.socket_id ?? '';
    const user = fields.user_id
      ? { user_id: fields.user_id, user_info: { name: fields.user_name ?? fields.user_id } }
      : undefined;
    if (path === CHANNEL_AUTH_PATH && fields.channel_name) {
      if (!fields.channel_name.startsWith('presence-'))
        return sdk.authorizeChannel(socketId, fields.channel_name);
      return user ? sdk.authorizeChannel(socketId, fields.channel_name, user) : undefined;
    }
    if (path === USER_AUTH_PATH && user) {
      return sdk.authenticateUser(socketId, { id: user.user_id, user_info: user.user_info });
    }
    return undefined;
  };

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    readForm(request)
      .then((fields) => {
        const path = new URL(request.url ?? '/', 'http://localhost').pathname;
        requests.push({ path, fields });
        const body = request.method === 'POST' ? answer(path, fields) : undefined;
        if (body === undefined) {
          response.writeHead(403, { 'content-type': 'text/plain' }).end('Forbidden');
          return;
        }
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      })
      .catch(() => response.destroy());
  });
  const host = '127.0.0.1';
  const port = await listen(server, host, 0);
  const base = `http://${host}:${port}`;
  return {
    channelEndpoint: `${base}${CHANNEL_AUTH_PATH}`,
    userEndpoint: `${base}${USER_AUTH_PATH}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readForm(request: IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
}

/**
 * An auth server for the calling test file, for the app `app()` names once the stack is up: started in
 * `beforeAll`, closed in `afterAll`.
 */
export function useAuthServer(app: () => SigningApp): { readonly server: AuthServer } {
  let started: AuthServer | undefined;
  beforeAll(async () => {
    started = await startAuthServer(app());
  });
  afterAll(async () => {
    await started?.close();
  });
  return {
    get server() {
      if (!started) throw new Error('the auth server is not running');
      return started;
    },
  };
}
