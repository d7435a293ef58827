// Formatting of untrusted or internal values for messages and logs, shared by every module.

/** Quotes client input for a message, shortened so a huge value cannot bloat a response or a log line. */
export function quoteForMessage(value: string, maxLength = 100): string {
  return JSON.stringify(value.length > maxLength ? `${value.slice(0, maxLength)}…` : value);
}

/** `Name: message` of an error, for logs and wrapping errors; never a stack. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
