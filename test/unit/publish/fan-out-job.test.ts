import { describe, expect, it } from 'vitest';
import { parseFanOutJob } from '../../../src/publish/fan-out-job.js';

const job = {
  appId: 'app',
  channel: 'crowd',
  frame: { event: 'e', channel: 'crowd', data: '{"a":1}' },
  connectionIds: ['A=', 'B='],
};

describe('parseFanOutJob', () => {
  it('accepts a job as the publishing route dispatches it, keeping only its fields', () => {
    expect(parseFanOutJob(JSON.parse(JSON.stringify({ ...job, extra: true })))).toEqual(job);
  });

  it.each([
    { why: 'not an object', payload: 'job' },
    { why: 'no connection ids', payload: { ...job, connectionIds: undefined } },
    { why: 'a connection id that is not a string', payload: { ...job, connectionIds: ['A=', 7] } },
    { why: 'a frame for another channel', payload: { ...job, frame: { ...job.frame, channel: 'other' } } },
    { why: 'data that is not a string', payload: { ...job, frame: { ...job.frame, data: { a: 1 } } } },
  ])('refuses $why', ({ payload }) => {
    expect(parseFanOutJob(payload)).toBeUndefined();
  });
});
