import { describe, expect, it } from 'vitest';
import { parseFanOutJob } from '../../../src/publish/fan-out-job.js';

const frame = { event: 'e', channel: 'crowd', data: '{"a":1}' };
/** As a route deployed before range jobs dispatched it: no `kind`. */
const legacy = { appId: 'app', channel: 'crowd', frame, connectionIds: ['A=', 'B='] };
const range = {
  kind: 'range',
  appId: 'app',
  channel: 'crowd',
  frame,
  after: 'K=',
  pageSize: 1000,
  excludedConnectionId: 'S=',
};
const cleanup = { kind: 'cleanup', appId: 'app', channel: 'crowd', connectionIds: ['G='] };
const roundTrip = (value: unknown) => JSON.parse(JSON.stringify(value));

describe('parseFanOutJob', () => {
  it('reads each kind of job as it is dispatched, keeping only its fields', () => {
    expect(parseFanOutJob(roundTrip({ ...range, extra: true }))).toEqual(range);
    expect(parseFanOutJob(roundTrip(cleanup))).toEqual(cleanup);
    // A client event's frame: data as the client sent it, and the sender on a presence channel.
    const clientEvent = {
      ...range,
      frame: { event: 'client-e', channel: 'crowd', data: { a: 1 }, user_id: 'ann' },
    };
    expect(parseFanOutJob(roundTrip(clientEvent))).toEqual(clientEvent);
    expect(parseFanOutJob(roundTrip({ ...legacy, extra: true }))).toEqual({ kind: 'list', ...legacy });
    const { excludedConnectionId: _, ...unexcluded } = range;
    expect(parseFanOutJob(roundTrip(unexcluded))).toEqual(unexcluded);
  });

  it.each([
    { why: 'not an object', payload: 'job' },
    { why: 'no connection ids', payload: { ...legacy, connectionIds: undefined } },
    { why: 'a connection id that is not a string', payload: { ...legacy, connectionIds: ['A=', 7] } },
    { why: 'a frame for another channel', payload: { ...legacy, frame: { ...frame, channel: 'other' } } },
    { why: 'a frame without data', payload: { ...legacy, frame: { event: 'e', channel: 'crowd' } } },
    { why: 'a user_id that is not a string', payload: { ...legacy, frame: { ...frame, user_id: 7 } } },
    { why: 'a range without its start', payload: { ...range, after: undefined } },
    { why: 'a range with no page size', payload: { ...range, pageSize: 0 } },
    { why: 'a range excluding a number', payload: { ...range, excludedConnectionId: 7 } },
    { why: 'a cleanup without connections', payload: { ...cleanup, connectionIds: 'G=' } },
    { why: 'an unknown kind', payload: { ...range, kind: 'broadcast' } },
  ])('refuses $why', ({ payload }) => {
    expect(parseFanOutJob(payload)).toBeUndefined();
  });
});
