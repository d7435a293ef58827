import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { PusherLambdaError, RateLimitedError, RequestRejectedError } from '../errors/errors.js';

export function jsonResponse(
  body: unknown,
  statusCode = 200,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

/** Errors are answered in plain text, as Pusher's own API does; SDKs surface the body to the developer. */
export function textResponse(
  statusCode: number,
  message: string,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'Content-Type': 'text/plain; charset=utf-8', ...headers }, body: message };
}

/**
 * The one place where errors become HTTP answers. A refusal tells the client what was wrong; anything
 * else is a 5xx whose details stay in the logs.
 */
export function errorResponse(error: unknown): APIGatewayProxyStructuredResultV2 {
  if (error instanceof RateLimitedError) {
    return textResponse(error.status, error.message, { 'Retry-After': String(error.retryAfterSeconds) });
  }
  if (error instanceof RequestRejectedError) return textResponse(error.status, error.message);
  if (error instanceof PusherLambdaError && error.status === 503) {
    return textResponse(503, 'The service is temporarily unavailable, retry shortly.', {
      'Retry-After': '1',
    });
  }
  return textResponse(500, 'A server error has occurred.');
}
