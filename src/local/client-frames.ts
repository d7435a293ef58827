import { Transform, type TransformCallback } from 'node:stream';

/** Why a client's bytes were stopped: a frame, or a message of several frames, over the limit. */
export interface Oversize {
  readonly frameBytes: number;
  readonly messageBytes: number;
}

export interface ClientFrameLimits {
  /** The largest payload of one frame. */
  readonly frameBytes: number;
  /** The largest message, summed over its fragments. */
  readonly messageBytes: number;
}

/**
 * Passes a client's WebSocket bytes through unchanged while reading each frame's header (RFC 6455, 5.2), and
 * stops at the first frame that would pass a limit: nothing of that frame is forwarded, and `onOversize`
 * is called once. The local stand-in for API Gateway's frame and message limits, enforced before any Lambda.
 */
export class ClientFrameLimit extends Transform {
  private header = Buffer.alloc(0);
  /** Payload bytes of the current frame still to pass through. */
  private payloadLeft = 0;
  /** Payload bytes of the message so far (fragments before the current frame). */
  private messageBytes = 0;
  private stopped = false;

  constructor(
    private readonly limits: ClientFrameLimits,
    private readonly onOversize: (oversize: Oversize) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let offset = 0;
    while (offset < chunk.length && !this.stopped) {
      if (this.payloadLeft > 0) {
        const passed = Math.min(this.payloadLeft, chunk.length - offset);
        this.push(chunk.subarray(offset, offset + passed));
        this.payloadLeft -= passed;
        offset += passed;
        continue;
      }
      const taken = Math.min(chunk.length - offset, MAX_HEADER_BYTES - this.header.length);
      const header = Buffer.concat([this.header, chunk.subarray(offset, offset + taken)]);
      const parsed = parseHeader(header);
      if (parsed === undefined) {
        this.header = header;
        offset += taken;
        continue;
      }
      // Only the header's own bytes are consumed here; what followed it in `header` is payload or the next frame.
      offset += parsed.headerBytes - this.header.length;
      this.header = Buffer.alloc(0);
      const messageBytes = parsed.control ? parsed.payloadBytes : this.messageBytes + parsed.payloadBytes;
      if (parsed.payloadBytes > this.limits.frameBytes || messageBytes > this.limits.messageBytes) {
        this.stopped = true;
        this.onOversize({ frameBytes: parsed.payloadBytes, messageBytes });
        break;
      }
      if (!parsed.control) this.messageBytes = parsed.final ? 0 : messageBytes;
      this.push(header.subarray(0, parsed.headerBytes));
      this.payloadLeft = parsed.payloadBytes;
    }
    done();
  }
}

/** 2 bytes, 8 of extended length, 4 of mask. */
const MAX_HEADER_BYTES = 14;

export interface FrameHeader {
  readonly headerBytes: number;
  readonly payloadBytes: number;
  readonly final: boolean;
  /** Close, ping and pong: never fragments of a message. */
  readonly control: boolean;
}

/** The header at the start of `bytes`, or undefined while it is incomplete. */
export function parseHeader(bytes: Buffer): FrameHeader | undefined {
  if (bytes.length < 2) return undefined;
  const final = (bytes[0]! & 0x80) !== 0;
  const control = (bytes[0]! & 0x08) !== 0;
  const masked = (bytes[1]! & 0x80) !== 0;
  const length7 = bytes[1]! & 0x7f;
  const lengthBytes = length7 === 126 ? 2 : length7 === 127 ? 8 : 0;
  const headerBytes = 2 + lengthBytes + (masked ? 4 : 0);
  if (bytes.length < headerBytes) return undefined;
  const payloadBytes =
    lengthBytes === 0
      ? length7
      : lengthBytes === 2
        ? bytes.readUInt16BE(2)
        : Number(bytes.readBigUInt64BE(2));
  return { headerBytes, payloadBytes, final, control };
}

/** A server's close frame (unmasked): the status code and a short reason. */
export function closeFrame(code: number, reason: string): Buffer {
  // A control frame's payload is at most 125 bytes: the code's 2 and 123 of reason.
  const body = Buffer.concat([
    Buffer.from([code >> 8, code & 0xff]),
    Buffer.from(reason, 'utf8').subarray(0, 123),
  ]);
  return Buffer.concat([Buffer.from([0x88, body.length]), body]);
}
