const MAX_QUOTED_LENGTH = 100;

/** Quotes client input for an error message, shortened so a huge value cannot bloat a response or a log. */
export function quoteForMessage(value: string): string {
  return JSON.stringify(value.length > MAX_QUOTED_LENGTH ? `${value.slice(0, MAX_QUOTED_LENGTH)}…` : value);
}
