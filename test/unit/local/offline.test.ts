import { describe, expect, it } from 'vitest';
import { describeExit, OutputTail } from '../../../src/local/offline.js';

describe('OutputTail', () => {
  it('keeps the last lines across chunks that split lines, without blank ones', () => {
    const tail = new OutputTail(3);
    tail.add('one\ntwo\n\nthr');
    tail.add(Buffer.from('ee\nfour\nfi'));

    expect(tail.text()).toBe('three\nfour\nfi');
  });

  it('bounds a line that never ends', () => {
    const tail = new OutputTail(2);
    for (let i = 0; i < 100; i++) tail.add('x'.repeat(1_000));

    expect(tail.text().length).toBeLessThanOrEqual(1_000);
  });
});

describe('describeExit', () => {
  it('names the signal that killed the child, else its exit code', () => {
    expect(describeExit({ code: null, signal: 'SIGKILL' })).toBe('was killed by SIGKILL');
    expect(describeExit({ code: 7, signal: null })).toBe('exited with code 7');
  });
});
