import { describe, expect, it } from 'vitest';
import { parseFanOutJob } from '../../../src/publish/fan-out-job.js';

const frame = { event: 'e', channel: 'crowd', data: '{"a":1}' };
const lane = {
  kind: 'lane',
  appId: 'app',
  channel: 'crowd',
  frame,
  range: { from: 'A', to: 'K' },
  pageSize: 1000,
  excludedConnectionId: 'S=',
};
const cleanup = { kind: 'cleanup', appId: 'app', channel: 'crowd', connectionIds: ['G='] };
const roundTrip = (value: unknown) => JSON.parse(JSON.stringify(value));

describe('parseFanOutJob', () => {
  it('reads each kind of job as it is dispatched, keeping only its fields', () => {
    expect(parseFanOutJob(roundTrip({ ...lane, extra: true }))).toEqual(lane);
    expect(parseFanOutJob(roundTrip(cleanup))).toEqual(cleanup);
    // A client event's frame: data as the client sent it, and the sender on a presence channel.
    const clientEvent = {
      ...lane,
      frame: { event: 'client-e', channel: 'crowd', data: { a: 1 }, user_id: 'ann' },
    };
    expect(parseFanOutJob(roundTrip(clientEvent))).toEqual(clientEvent);
    // The last lane has no end; a job set aside when cut short says where to resume.
    const { excludedConnectionId: _, ...unexcluded } = lane;
    const resumed = { ...unexcluded, range: { from: 'K' }, after: 'Kx=' };
    expect(parseFanOutJob(roundTrip(resumed))).toEqual(resumed);
  });

  it.each([
    { why: 'not an object', payload: 'job' },
    { why: 'no kind', payload: { ...lane, kind: undefined } },
    { why: 'an unknown kind', payload: { ...lane, kind: 'broadcast' } },
    { why: 'a frame for another channel', payload: { ...lane, frame: { ...frame, channel: 'other' } } },
    { why: 'a frame without data', payload: { ...lane, frame: { event: 'e', channel: 'crowd' } } },
    { why: 'a user_id that is not a string', payload: { ...lane, frame: { ...frame, user_id: 7 } } },
    { why: 'a lane without its range', payload: { ...lane, range: undefined } },
    { why: 'a range without its start', payload: { ...lane, range: { to: 'K' } } },
    { why: 'a range ending in a number', payload: { ...lane, range: { from: 'A', to: 7 } } },
    { why: 'a resume point that is not a string', payload: { ...lane, after: 7 } },
    { why: 'a lane with no page size', payload: { ...lane, pageSize: 0 } },
    { why: 'a lane excluding a number', payload: { ...lane, excludedConnectionId: 7 } },
    { why: 'a cleanup without connections', payload: { ...cleanup, connectionIds: 'G=' } },
  ])('refuses $why', ({ payload }) => {
    expect(parseFanOutJob(payload)).toBeUndefined();
  });
});
