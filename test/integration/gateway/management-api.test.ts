import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionsApi, postToAll } from '../../../src/gateway/management-api.js';
import { ConnectionsApiStandIn } from '../../fixtures/gateway/connections-api.js';
import { recordingLogger } from '../../support/recording-logger.js';

let standIn: ConnectionsApiStandIn;

beforeAll(async () => {
  standIn = await new ConnectionsApiStandIn().start();
});

afterAll(async () => {
  await standIn?.close();
});

const frame = { event: 'e', channel: 'c', data: '{"quote":"\\""}' };

describe('postToAll', () => {
  it('retries a throttled post with backoff until it lands, and counts what still fails by cause', async () => {
    const api = connectionsApi(standIn.endpoint, 'us-east-1');
    for (const id of ['ok', 'slowed', 'choked', 'huge']) standIn.open(id);
    standIn.throttle('slowed', 2);
    standIn.throttle('choked', 100);
    standIn.refuseAsTooLarge('huge');
    const logger = recordingLogger();

    const outcome = await postToAll(api, ['ok', 'slowed', 'choked', 'huge', 'left'], frame, logger);

    expect(outcome).toEqual({ gone: ['left'], failures: { throttled: 1, tooLarge: 1, other: 0 } });
    expect(standIn.framesOf('ok')).toEqual([frame]);
    expect(standIn.framesOf('slowed')).toEqual([frame]);
    expect(standIn.framesOf('choked')).toEqual([]);
    expect(logger.records.map((record) => record.attributes.cause).sort()).toEqual(['throttled', 'tooLarge']);
    expect(JSON.stringify(logger.records)).not.toContain('quote');
  });

  it('gives up retrying a throttled post once its time is up', async () => {
    const api = connectionsApi(standIn.endpoint, 'us-east-1');
    standIn.open('late');
    // The SDK tries twice itself (maxAttempts 2): both are throttled, and no retry of ours follows.
    standIn.throttle('late', 2);
    const before = standIn.throttledAnswers;

    const outcome = await postToAll(api, ['late'], frame, recordingLogger(), { stopAtMs: Date.now() });

    expect(outcome.failures.throttled).toBe(1);
    expect(standIn.throttledAnswers - before).toBe(2);
  });
});
