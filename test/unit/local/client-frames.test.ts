import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClientFrameLimit, closeFrame, type Oversize } from '../../../src/local/client-frames.js';

/** `ws`'s own frame encoder, which its type definitions leave out. */
const { Sender } = createRequire(import.meta.url)('ws') as {
  Sender: {
    frame(
      data: Buffer,
      options: { fin: boolean; mask: boolean; opcode: number; readOnly: boolean; rsv1: boolean },
    ): Buffer[];
  };
};

const LIMITS = { frameBytes: 1_000, messageBytes: 2_500 };

/** A client's frame as `ws` encodes it (masked), one buffer. */
function clientFrame(payload: Buffer, options: { fin?: boolean; opcode?: number } = {}): Buffer {
  const opcode = options.opcode ?? 1;
  return Buffer.concat(
    Sender.frame(payload, { fin: options.fin ?? true, mask: true, opcode, readOnly: false, rsv1: false }),
  );
}

/** Feeds `bytes` in chunks of the given sizes and collects what passes and what stopped it. */
async function pass(bytes: Buffer, chunkSizes: readonly number[]) {
  const oversizes: Oversize[] = [];
  const limit = new ClientFrameLimit(LIMITS, (oversize) => oversizes.push(oversize));
  const out: Buffer[] = [];
  limit.on('data', (chunk: Buffer) => out.push(chunk));
  let offset = 0;
  for (let i = 0; offset < bytes.length; i++) {
    const size = chunkSizes[i % chunkSizes.length]!;
    limit.write(bytes.subarray(offset, offset + size));
    offset += size;
  }
  limit.end();
  await new Promise((resolve) => limit.once('end', resolve));
  return { passed: Buffer.concat(out), oversizes };
}

describe('ClientFrameLimit', () => {
  it('passes frames within the limits unchanged however the bytes are chunked', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: LIMITS.frameBytes }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 4 }),
        async (sizes, chunkSizes) => {
          const bytes = Buffer.concat(sizes.map((size) => clientFrame(Buffer.alloc(size, 'a'))));
          const { passed, oversizes } = await pass(bytes, chunkSizes);
          expect(oversizes).toEqual([]);
          expect(passed.equals(bytes)).toBe(true);
        },
      ),
      { numRuns: 100, seed: 13 },
    );
  });

  it('stops at a frame over the frame limit, forwarding nothing of it', async () => {
    const first = clientFrame(Buffer.alloc(10, 'a'));
    const bytes = Buffer.concat([first, clientFrame(Buffer.alloc(LIMITS.frameBytes + 1, 'b'))]);

    const { passed, oversizes } = await pass(bytes, [1]);

    expect(passed.equals(first)).toBe(true);
    expect(oversizes).toEqual([{ frameBytes: LIMITS.frameBytes + 1, messageBytes: LIMITS.frameBytes + 1 }]);
  });

  it('sums a fragmented message, and lets control frames between its fragments through uncounted', async () => {
    const fragment = Buffer.alloc(LIMITS.frameBytes, 'c');
    const ping = clientFrame(Buffer.alloc(100), { opcode: 0x9 });
    const fitting = [
      clientFrame(fragment, { fin: false }),
      ping,
      clientFrame(fragment.subarray(0, 500), { opcode: 0 }),
    ];
    const over = [clientFrame(fragment, { fin: false }), clientFrame(fragment, { fin: false, opcode: 0 })];
    const bytes = Buffer.concat([...fitting, ...over, clientFrame(fragment, { opcode: 0 })]);

    const { passed, oversizes } = await pass(bytes, [700]);

    expect(passed.equals(Buffer.concat([...fitting, ...over]))).toBe(true);
    expect(oversizes).toEqual([{ frameBytes: LIMITS.frameBytes, messageBytes: 3 * LIMITS.frameBytes }]);
  });
});

describe('closeFrame', () => {
  it('is an unmasked close frame with the code and reason', () => {
    expect(closeFrame(1009, 'Message too big')).toEqual(
      Buffer.concat([Buffer.from([0x88, 17, 0x03, 0xf1]), Buffer.from('Message too big')]),
    );
  });
});
