import { Logger } from '@aws-lambda-powertools/logger';
import type { MiddlewareObj } from '@middy/core';

/**
 * The slice of a structured logger the core needs. A Powertools `Logger` fits it; so does a test double.
 * Attributes never carry secrets.
 */
export interface StructuredLogger {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

/** The service name of lines logged by a component used outside our handlers. */
export const DEFAULT_SERVICE_NAME = 'pusher-lambda-authorizer';

/**
 * One JSON logger per handler module, created at cold start. Level from `POWERTOOLS_LOG_LEVEL`
 * (or `LOG_LEVEL`); the service name from `POWERTOOLS_SERVICE_NAME`, else the given one; `component`, when
 * given, is on every line.
 */
export function createLogger(serviceName: string, component?: string): Logger {
  return new Logger({
    serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? serviceName,
    ...(component === undefined ? {} : { persistentKeys: { component } }),
  });
}

/**
 * Adds the Lambda context (request id, function, cold start) to every line of `logger` for the invocation.
 * Powertools' `injectLambdaContext` does this too, but also recomputes the log level on every invocation (for
 * debug sampling), which costs more than an authorization; here that happens only when
 * `POWERTOOLS_LOGGER_SAMPLE_RATE` is set, read once at cold start.
 */
export function lambdaContextLogging(logger: Logger, env: NodeJS.ProcessEnv = process.env): MiddlewareObj {
  const sampling = Number(env.POWERTOOLS_LOGGER_SAMPLE_RATE ?? 0) > 0;
  return {
    name: 'lambdaContextLogging',
    before: (request) => {
      if (sampling) logger.refreshSampleRateCalculation();
      logger.addContext(request.context);
    },
  };
}
