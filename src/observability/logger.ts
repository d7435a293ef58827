import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The slice of a structured logger the core needs. A Powertools `Logger` fits it; so does a test double.
 * Attributes never carry secrets.
 */
export interface StructuredLogger {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

/**
 * One JSON logger per handler module, created at cold start. Level from `POWERTOOLS_LOG_LEVEL`
 * (or `LOG_LEVEL`); the service name from `POWERTOOLS_SERVICE_NAME`, else the given one.
 */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? serviceName });
}
