import { createServer, type Server } from 'node:http';
import {
  ApiGatewayManagementApiClient,
  GetConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConnectionsApi, startConnectionsApi } from '../../../src/local/connections-api.js';
import { LiveConnections } from '../../../src/local/live-connections.js';
import { listen } from '../../../src/local/net.js';
import { MAX_FRAME_BYTES } from '../../../src/protocol/frames.js';

const HOST = '127.0.0.1';

describe("the local @connections API (serverless offline's, with API Gateway's message limit)", () => {
  let offline: Server;
  let api: ConnectionsApi;
  let client: ApiGatewayManagementApiClient;
  const posted: { url: string; bytes: number }[] = [];
  // One connection held open, as the front door would after relaying its greeting.
  const live = new LiveConnections();
  live.add('open=');

  beforeAll(async () => {
    offline = createServer((req, res) => {
      let bytes = 0;
      req.on('data', (chunk: Buffer) => (bytes += chunk.length));
      req.on('end', () => {
        posted.push({ url: req.url!, bytes });
        res.writeHead(200).end();
      });
    });
    const port = await listen(offline, HOST, 0);
    api = await startConnectionsApi({
      host: HOST,
      port: 0,
      websocket: { host: HOST, port },
      maxMessageBytes: MAX_FRAME_BYTES,
      live,
    });
    client = new ApiGatewayManagementApiClient({
      endpoint: api.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
  });

  afterAll(async () => {
    client?.destroy();
    await api?.close();
    await new Promise((resolve) => offline?.close(resolve));
  });

  it(`forwards a post of ${MAX_FRAME_BYTES} bytes`, async () => {
    await client.send(
      new PostToConnectionCommand({ ConnectionId: 'abc=', Data: Buffer.alloc(MAX_FRAME_BYTES, 'a') }),
    );

    expect(posted.at(-1)).toEqual({ url: '/@connections/abc%3D', bytes: MAX_FRAME_BYTES });
  });

  it('refuses one byte more as AWS does, with PayloadTooLargeException, and forwards nothing', async () => {
    const before = posted.length;
    const post = client.send(
      new PostToConnectionCommand({ ConnectionId: 'abc=', Data: Buffer.alloc(MAX_FRAME_BYTES + 1, 'a') }),
    );

    await expect(post).rejects.toMatchObject({
      name: 'PayloadTooLargeException',
      $metadata: { httpStatusCode: 413 },
    });
    expect(posted).toHaveLength(before);
  });

  it('answers GetConnection from the connections the front door holds: 200 for one open, GoneException for others', async () => {
    await expect(client.send(new GetConnectionCommand({ ConnectionId: 'open=' }))).resolves.toBeDefined();
    await expect(client.send(new GetConnectionCommand({ ConnectionId: 'gone=' }))).rejects.toMatchObject({
      name: 'GoneException',
      $metadata: { httpStatusCode: 410 },
    });
  });
});
