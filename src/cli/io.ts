import { createInterface } from 'node:readline';

/** Where the CLI writes: `process.stdout`/`stderr`, or a capturing stream in tests. */
export interface OutputStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  once?(event: 'drain', listener: () => void): unknown;
}

/** Writes and, when the stream's buffer is full, waits for it to drain: a long listing into a slow pipe stays small. */
export async function writeAndDrain(stream: OutputStream, text: string): Promise<void> {
  if ((await stream.write(text)) === false && stream.once !== undefined) {
    await new Promise<void>((resolve) => stream.once?.('drain', resolve));
  }
}

/** Where the CLI reads answers and piped input: `process.stdin`, or a stream in tests. */
export type InputStream = NodeJS.ReadableStream & { readonly isTTY?: boolean };

/** The first line of the input (without its line break), or undefined at end of input. */
export async function readFirstLine(input: InputStream): Promise<string | undefined> {
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of lines) return line;
    return undefined;
  } finally {
    lines.close();
  }
}

/** All of the input as text. */
export async function readAll(input: InputStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}
