import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import pusherJsModule from 'pusher-js';
import { describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import {
  connectQueryFromPusherJsUrl,
  pusherJsConnectQuery,
  wsConnectAuthorizerEvent,
} from '../../support/events.js';

// pusher-js's typings declare an ES default export, but its CommonJS node build exports the class itself.
const PusherJs = pusherJsModule as unknown as typeof pusherJsModule.default;

/** The request target of the first WebSocket upgrade a real pusher-js client sends. */
async function pusherJsUpgradeUrl(key: string): Promise<string> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  const upgraded = once(server, 'connection');
  const client = new PusherJs(key, {
    cluster: 'mt1',
    wsHost: '127.0.0.1',
    wsPort: (server.address() as AddressInfo).port,
    forceTLS: false,
    enabledTransports: ['ws'],
    disableStats: true,
  });
  try {
    const [, request] = (await upgraded) as [unknown, { url?: string }];
    return request.url ?? '';
  } finally {
    client.disconnect();
    for (const socket of server.clients) socket.terminate();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('pusherJsConnectQuery', () => {
  it('is exactly the query a real pusher-js connection has after the rewrite', async () => {
    const url = await pusherJsUpgradeUrl('app-key');
    const query = connectQueryFromPusherJsUrl(url);

    expect(url.startsWith('/app/app-key?')).toBe(true);
    expect(query).toEqual(pusherJsConnectQuery('app-key'));
    expect(wsConnectAuthorizerEvent({ query }).queryStringParameters).toEqual(query);
  });

  it('refuses a URL that is not a pusher-js connect path', () => {
    expect(() => connectQueryFromPusherJsUrl('/?appKey=x')).toThrow(/not a pusher-js connect path/);
  });
});
