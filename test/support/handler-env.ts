import { vi } from 'vitest';

/**
 * Imports a handler module afresh with the given environment, as a cold start would: handlers read their
 * configuration once, at module scope.
 */
export async function coldStart<T>(load: () => Promise<T>, env: Record<string, string>): Promise<T> {
  vi.resetModules();
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  return load();
}

/** Everything the JSON logger writes to stdout while `action` runs. */
export async function capturedStdout(action: () => Promise<unknown>): Promise<string> {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  });
  try {
    await action();
  } finally {
    spy.mockRestore();
  }
  return chunks.join('');
}
