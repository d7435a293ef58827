import { describe, expect, it } from 'vitest';
import {
  AppDisabledError,
  AuthenticationError,
  PayloadTooLargeError,
  RateLimitedError,
  StoreUnavailableError,
} from '../../../src/errors/errors.js';
import { errorResponse, jsonResponse } from '../../../src/http-api/responses.js';

describe('errorResponse', () => {
  it('answers a refusal with its status and message in plain text, as Pusher does', () => {
    expect(errorResponse(new AuthenticationError('Timestamp expired: x'))).toEqual({
      statusCode: 401,
      headers: { 'Content-Type': 'text/plain; charset=utf-8' },
      body: 'Timestamp expired: x',
    });
    expect(errorResponse(new PayloadTooLargeError('too big')).statusCode).toBe(413);
    expect(errorResponse(new AppDisabledError('app-1'))).toMatchObject({
      statusCode: 403,
      body: 'The app app-1 is disabled.',
    });
  });

  it('tells a rate-limited client when to retry', () => {
    const response = errorResponse(new RateLimitedError('Too many requests', 1));
    expect(response.statusCode).toBe(429);
    expect(response.headers).toMatchObject({ 'Retry-After': '1' });
  });

  it('answers a store outage with a retryable 503 that reveals nothing', () => {
    const response = errorResponse(
      new StoreUnavailableError('GetItem on table apps failed: ThrottlingException'),
    );
    expect(response.statusCode).toBe(503);
    expect(response.body).not.toContain('apps');
  });

  it('answers anything unexpected with a bare 500', () => {
    const response = errorResponse(new TypeError('secret-bearing detail'));
    expect(response).toMatchObject({ statusCode: 500, body: 'A server error has occurred.' });
  });
});

describe('jsonResponse', () => {
  it('serialises the body as JSON with status 200 by default', () => {
    expect(jsonResponse({})).toEqual({
      statusCode: 200,
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    });
  });
});
