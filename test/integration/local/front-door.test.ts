import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { loadViewerRequestFunction } from '../../../src/local/edge-function.js';
import { type FrontDoor, startFrontDoor } from '../../../src/local/front-door.js';
import { freePort, listen } from '../../../src/local/net.js';
import { MAX_FRAME_BYTES, MAX_INBOUND_FRAME_BYTES } from '../../../src/protocol/frames.js';

const HOST = '127.0.0.1';
/** API Gateway's, as the stack passes them. */
const CLIENT_FRAMES = { frameBytes: MAX_INBOUND_FRAME_BYTES, messageBytes: MAX_FRAME_BYTES };

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

describe('the front door', () => {
  let websocketApi: WebSocketServer;
  let httpApi: Server;
  let front: FrontDoor;
  const upgrades: Seen[] = [];
  const requests: Seen[] = [];
  /** Sizes of the messages the WebSocket API received, and whether its side of each connection closed. */
  const received: number[] = [];
  let upstreamClosed: Promise<void>;

  beforeEach(async () => {
    upgrades.length = 0;
    requests.length = 0;
    websocketApi = new WebSocketServer({ host: HOST, port: 0 });
    await new Promise((resolve) => websocketApi.once('listening', resolve));
    received.length = 0;
    websocketApi.on('connection', (socket, req) => {
      upgrades.push({ method: req.method!, url: req.url!, headers: req.headers, body: '' });
      upstreamClosed = new Promise((resolve) => socket.once('close', () => resolve()));
      socket.on('message', (data: Buffer) => {
        received.push(data.length);
        socket.send(data.length < 100 ? `echo ${data}` : `got ${data.length} bytes`);
      });
    });
    httpApi = createServer((req, res) => {
      let body = '';
      req
        .on('data', (chunk) => (body += chunk))
        .on('end', () => {
          requests.push({ method: req.method!, url: req.url!, headers: req.headers, body });
          res.writeHead(201, { 'x-upstream': 'yes', 'content-type': 'application/json' }).end('{"ok":true}');
        });
    });
    const httpPort = await listen(httpApi, HOST, 0);
    front = await startFrontDoor({
      host: HOST,
      port: 0,
      viewerRequest: loadViewerRequestFunction(),
      websocket: { host: HOST, port: (websocketApi.address() as { port: number }).port },
      http: { host: HOST, port: httpPort },
      clientFrames: CLIENT_FRAMES,
    });
  });

  afterEach(async () => {
    await front.close();
    await new Promise((resolve) => websocketApi.close(resolve));
    await new Promise((resolve) => httpApi.close(resolve));
  });

  function open(path: string): Promise<WebSocket | number> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`ws://${HOST}:${front.port}${path}`);
      socket.once('open', () => resolve(socket));
      socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.once('error', reject);
    });
  }

  it('rewrites a pusher-js upgrade with the edge function and relays frames both ways', async () => {
    const socket = (await open('/app/key-1?protocol=7&client=js&version=8.6.0&flash=false')) as WebSocket;
    const reply = new Promise((resolve) => socket.once('message', (data) => resolve(String(data))));
    socket.send('ping');

    expect(await reply).toBe('echo ping');
    expect(upgrades).toHaveLength(1);
    expect(upgrades[0]!.url).toBe('/?protocol=7&client=js&version=8.6.0&flash=false&appKey=key-1');
    expect(upgrades[0]!.headers.host).toBe(`${HOST}:${(websocketApi.address() as { port: number }).port}`);
    socket.terminate();
  });

  describe('as API Gateway, it closes a connection with 1009 on a client frame over the limit', () => {
    /** The close code and reason the client got, or the first message if it was not closed. */
    function answerTo(socket: WebSocket): Promise<{ closed: number; reason: string } | { message: string }> {
      return new Promise((resolve) => {
        socket.once('message', (data) => resolve({ message: String(data) }));
        socket.once('close', (code, reason) => resolve({ closed: code, reason: String(reason) }));
      });
    }

    it(`relays a frame of ${MAX_INBOUND_FRAME_BYTES} bytes`, async () => {
      const socket = (await open('/app/key-1?protocol=7')) as WebSocket;
      const answer = answerTo(socket);
      socket.send('"'.repeat(MAX_INBOUND_FRAME_BYTES));

      expect(await answer).toEqual({ message: `got ${MAX_INBOUND_FRAME_BYTES} bytes` });
      socket.terminate();
    });

    it('closes on one byte more, and the WebSocket API sees a disconnect without the frame', async () => {
      const socket = (await open('/app/key-1?protocol=7')) as WebSocket;
      const answer = answerTo(socket);
      socket.send('small');
      expect(await answer).toEqual({ message: 'echo small' });

      const closed = answerTo(socket);
      socket.send('"'.repeat(MAX_INBOUND_FRAME_BYTES + 1));

      expect(await closed).toEqual({ closed: 1009, reason: 'Message too big' });
      await upstreamClosed;
      expect(received).toEqual([5]);
    });

    it('counts a fragmented message whole: under the message limit it passes, over it closes', async () => {
      const fragment = 'x'.repeat(30_000);
      const fits = Math.floor(MAX_FRAME_BYTES / fragment.length);
      const socket = (await open('/app/key-1?protocol=7')) as WebSocket;
      const answer = answerTo(socket);
      for (let i = 0; i < fits; i++) socket.send(fragment, { fin: i === fits - 1 });
      expect(await answer).toEqual({ message: `got ${fits * fragment.length} bytes` });

      const closed = answerTo(socket);
      for (let i = 0; i <= fits; i++) socket.send(fragment, { fin: i === fits });

      expect(await closed).toEqual({ closed: 1009, reason: 'Message too big' });
      expect(received).toEqual([fits * fragment.length]);
    });
  });

  it('answers what the edge function answers for other paths, without reaching the WebSocket API', async () => {
    expect(await open('/?appKey=key-1')).toBe(404);
    expect(await open('/app/key-1/extra')).toBe(404);
    expect(upgrades).toHaveLength(0);
  });

  it('forwards /apps/... requests unchanged, body and answer included', async () => {
    const response = await fetch(`http://${HOST}:${front.port}/apps/1/events?auth_key=k&body_md5=x`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":"e"}',
    });

    expect(response.status).toBe(201);
    expect(response.headers.get('x-upstream')).toBe('yes');
    expect(await response.json()).toEqual({ ok: true });
    expect(requests).toEqual([
      expect.objectContaining({
        method: 'POST',
        url: '/apps/1/events?auth_key=k&body_md5=x',
        body: '{"name":"e"}',
      }),
    ]);
  });

  it('answers GET / with the edge function’s health answer, without reaching either API', async () => {
    const response = await fetch(`http://${HOST}:${front.port}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain');
    expect(await response.text()).toBe('OK');
    expect(requests).toEqual([]);
    expect(upgrades).toEqual([]);
  });

  it('answers 404 itself for HTTP paths outside /apps/', async () => {
    const response = await fetch(`http://${HOST}:${front.port}/app/key-1`);

    expect(response.status).toBe(404);
    expect(requests).toHaveLength(0);
  });

  it('answers 502 when the HTTP API is down', async () => {
    const down = await startFrontDoor({
      host: HOST,
      port: 0,
      viewerRequest: loadViewerRequestFunction(),
      websocket: { host: HOST, port: await freePort(HOST) },
      http: { host: HOST, port: await freePort(HOST) },
      clientFrames: CLIENT_FRAMES,
    });
    try {
      expect((await fetch(`http://${HOST}:${down.port}/apps/1/channels`)).status).toBe(502);
    } finally {
      await down.close();
    }
  });

  it('close() ends the connections it relays', async () => {
    const socket = (await open('/app/key-1?protocol=7')) as WebSocket;
    const closed = new Promise((resolve) => socket.once('close', resolve));

    await front.close();

    await expect(closed).resolves.toBeDefined();
  });
});
