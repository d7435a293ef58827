import { describe, expect, it } from 'vitest';
import { useLocalStack } from '../support/local-stack.js';
import { PusherJsClient } from '../support/pusher-js.js';
import { openRawSocket, type PusherFrame } from '../support/raw-socket.js';

/*
 * Bursts on npm start's stack: work that piles up behind one connection or many at once must still be
 * answered in Pusher's words, never by API Gateway's own error frame (no `event`), on which pusher-js throws.
 */

const CHANNELS = 300;
/** Every one of 300 subscribes answered, however slowly the stack takes them. */
const ANSWERED_WITHIN_MS = 120_000;
const PUSHER_JS_QUERY = 'protocol=7&client=js&version=8.6.0&flash=false';

describe('bursts on the local stack', () => {
  const local = useLocalStack('e2e-bursts');

  it(`answers each of ${CHANNELS} subscribes sent at once by one pusher-js connection`, {
    timeout: ANSWERED_WITHIN_MS + 30_000,
  }, async () => {
    const client = new PusherJsClient({ key: local.stack.app.key, port: local.stack.port });
    await client.connected();
    const outcomes = await Promise.all(
      Array.from({ length: CHANNELS }, (_, i) => client.subscription(`burst-${i}`, ANSWERED_WITHIN_MS)),
    );
    client.disconnect();

    const refusals = outcomes.filter((outcome) => !outcome.succeeded).map((outcome) => outcome.error);
    expect(outcomes).toHaveLength(CHANNELS);
    for (const refusal of refusals)
      expect(refusal).toMatchObject({ type: expect.any(String), status: expect.any(Number) });
    expect(client.errors, `serverless offline output: ${local.log}`).toEqual([]);
  });

  it(`sends only Pusher frames, each with an event, to a raw socket that subscribes to ${CHANNELS} channels at once`, {
    timeout: ANSWERED_WITHIN_MS + 30_000,
  }, async () => {
    const socket = await openRawSocket(
      `${local.stack.urls.websocket}/app/${local.stack.app.key}?${PUSHER_JS_QUERY}`,
    );
    expect((await socket.nextFrame()).event).toBe('pusher:connection_established');
    for (let i = 0; i < CHANNELS; i++)
      socket.send({ event: 'pusher:subscribe', data: { channel: `raw-burst-${i}` } });

    const frames: PusherFrame[] = [];
    for (let i = 0; i < CHANNELS; i++) frames.push(await socket.nextFrame(ANSWERED_WITHIN_MS));
    socket.close();

    expect(frames.filter((frame) => typeof frame.event !== 'string')).toEqual([]);
    const answered = new Set(frames.map((frame) => frame.channel));
    expect(answered.size).toBe(CHANNELS);
  });
});
