import type { OutputStream } from './io.js';

/** Counts work done and prints messages without garbling a progress bar that may be on screen. */
export interface Progress {
  advance(): void;
  log(line: string): void;
  finish(): void;
}

/** Below this many steps a bar would only flash. */
export const PROGRESS_MIN_STEPS = 50;
const REDRAW_EVERY_MS = 100;
const BAR_WIDTH = 30;
const CLEAR_LINE = '\r\x1b[2K';

/**
 * A one-line bar on `stream` when it is a terminal and the work is large; plain lines otherwise.
 * Redraws at most every 100 ms by `now`, so a fast import does not spend its time drawing.
 */
export function startProgress(
  stream: OutputStream,
  total: number,
  label: string,
  now: () => number,
): Progress {
  if (!stream.isTTY || total < PROGRESS_MIN_STEPS) {
    return { advance: () => {}, log: (line) => void stream.write(`${line}\n`), finish: () => {} };
  }
  let done = 0;
  let drawnAt = Number.NEGATIVE_INFINITY;
  const draw = () => {
    const filled = Math.round((done / total) * BAR_WIDTH);
    const percent = Math.floor((done / total) * 100);
    stream.write(
      `${CLEAR_LINE}${label} [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${done}/${total} ${percent}%`,
    );
    drawnAt = now();
  };
  draw();
  return {
    advance: () => {
      done += 1;
      if (now() - drawnAt >= REDRAW_EVERY_MS) draw();
    },
    log: (line) => {
      stream.write(`${CLEAR_LINE}${line}\n`);
      draw();
    },
    finish: () => {
      draw();
      stream.write('\n');
    },
  };
}
