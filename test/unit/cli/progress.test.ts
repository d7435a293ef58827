import { describe, expect, it } from 'vitest';
import { PROGRESS_MIN_STEPS, startProgress } from '../../../src/cli/progress.js';
import { CapturedOutput } from '../../fixtures/cli/captured-output.js';

describe('startProgress', () => {
  it('prints plain lines and no bar when the stream is not a terminal', () => {
    const stream = new CapturedOutput(false);
    const progress = startProgress(stream, 500, 'Importing', () => 0);
    progress.advance();
    progress.log('line 3: not valid JSON');
    progress.finish();
    expect(stream.text).toBe('line 3: not valid JSON\n');
  });

  it('prints no bar for small work on a terminal either', () => {
    const stream = new CapturedOutput(true);
    const progress = startProgress(stream, PROGRESS_MIN_STEPS - 1, 'Importing', () => 0);
    progress.advance();
    progress.finish();
    expect(stream.text).toBe('');
  });

  it('redraws on a terminal at most every 100 ms, keeps logged lines above the bar and ends at 100%', () => {
    const stream = new CapturedOutput(true);
    let now = 0;
    const progress = startProgress(stream, 100, 'Importing', () => now);
    for (let step = 0; step < 60; step += 1) {
      now += 10;
      progress.advance();
    }
    progress.log('line 7: oops');
    for (let step = 0; step < 40; step += 1) progress.advance();
    progress.finish();
    const frames = stream.text.split('\r\x1b[2K').filter(Boolean);
    expect(frames[0]).toBe('Importing [..............................] 0/100 0%');
    // 60 steps 10 ms apart: a redraw every 10 steps, not 60.
    expect(frames.filter((frame) => frame.startsWith('Importing')).length).toBeLessThan(12);
    expect(frames).toContain('line 7: oops\n');
    expect(frames.at(-1)).toBe(`Importing [${'#'.repeat(30)}] 100/100 100%\n`);
  });
});
