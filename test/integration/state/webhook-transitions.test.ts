import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StateTable } from '../../../src/state/table.js';
import { recordTransition } from '../../../src/state/webhook-transitions.js';
import { stateTestTable } from '../../support/dynamodb.js';

let state: StateTable;
let drop: () => Promise<void>;

beforeAll(async () => {
  ({ state, drop } = await stateTestTable('transitions'));
});

afterAll(() => drop());

const NOW = 1_800_000_000_000;
const subject = () => ({ channel: `ch-${randomUUID()}` });

describe('recordTransition', () => {
  it('sends each change of state, in order, starting from none known', async () => {
    const channel = subject();
    expect(await recordTransition(state, 'app', channel, 'present', 1, NOW)).toBe('send');
    expect(await recordTransition(state, 'app', channel, 'absent', 2, NOW)).toBe('send');
    expect(await recordTransition(state, 'app', channel, 'present', 3, NOW)).toBe('send');
  });

  it('a departure followed within its delay by a return: the return repeats the state, the late departure is stale', async () => {
    const channel = subject();
    await recordTransition(state, 'app', channel, 'present', 1, NOW);
    // The departure at 2 waits 3 s in the queue; the return at 3 is handled first.
    expect(await recordTransition(state, 'app', channel, 'present', 3, NOW)).toBe('repeat');
    expect(await recordTransition(state, 'app', channel, 'absent', 2, NOW)).toBe('stale');
  });

  it('decides a redelivered observation as it did the first time, whichever it was', async () => {
    const sent = subject();
    expect(await recordTransition(state, 'app', sent, 'present', 5, NOW)).toBe('send');
    expect(await recordTransition(state, 'app', sent, 'present', 5, NOW)).toBe('send');
    const repeated = subject();
    await recordTransition(state, 'app', repeated, 'present', 5, NOW);
    expect(await recordTransition(state, 'app', repeated, 'present', 6, NOW)).toBe('repeat');
    expect(await recordTransition(state, 'app', repeated, 'present', 6, NOW)).toBe('repeat');
  });

  it('keeps a user on a channel apart from the channel, and apps apart', async () => {
    const { channel } = subject();
    expect(await recordTransition(state, 'app', { channel }, 'present', 1, NOW)).toBe('send');
    expect(await recordTransition(state, 'app', { channel, userId: 'u1' }, 'present', 1, NOW)).toBe('send');
    expect(await recordTransition(state, 'other', { channel }, 'present', 1, NOW)).toBe('send');
    expect(await recordTransition(state, 'app', { channel, userId: 'u1' }, 'absent', 2, NOW)).toBe('send');
    expect(await recordTransition(state, 'app', { channel }, 'present', 3, NOW)).toBe('repeat');
  });
});
