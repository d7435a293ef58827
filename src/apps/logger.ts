/**
 * The slice of a structured logger the app store needs. A Powertools `Logger` fits it; so does a
 * test double. Attributes never carry secrets.
 */
export interface AppLogger {
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}
