import { describe, expect, it } from 'vitest';
import { signedPath } from '../../../src/http/signed-path.js';

describe('signedPath', () => {
  it('keeps the path on the $default stage', () => {
    expect(signedPath('/apps/1/events', '$default')).toBe('/apps/1/events');
  });

  it('strips a named stage prefix, which HTTP APIs put in rawPath', () => {
    expect(signedPath('/prod/apps/1/events', 'prod')).toBe('/apps/1/events');
  });

  it('leaves a path that merely starts with the stage name alone', () => {
    expect(signedPath('/production/apps/1/events', 'prod')).toBe('/production/apps/1/events');
  });
});
