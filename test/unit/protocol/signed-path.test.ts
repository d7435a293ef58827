import { describe, expect, it } from 'vitest';
import { signedPath } from '../../../src/protocol/signed-path.js';

describe('signedPath', () => {
  it('keeps a path that starts with /apps/ ($default stage)', () => {
    expect(signedPath('/apps/1/events', '1')).toBe('/apps/1/events');
  });

  it('strips a named stage, which HTTP APIs put in rawPath', () => {
    expect(signedPath('/prod/apps/1/events', '1')).toBe('/apps/1/events');
  });

  it('strips a custom domain base path', () => {
    expect(signedPath('/pusher/v1/apps/1/channels/presence-a', '1')).toBe('/apps/1/channels/presence-a');
  });

  it('is not fooled by a stage or an app id named "apps"', () => {
    expect(signedPath('/apps/apps/1/events', '1')).toBe('/apps/1/events');
    expect(signedPath('/apps/apps/events', 'apps')).toBe('/apps/apps/events');
    expect(signedPath('/prod/apps/apps/events', 'apps')).toBe('/apps/apps/events');
  });

  it('finds an app id the client percent-escaped, and leaves escapes for the verifier to decode', () => {
    expect(signedPath('/prod/apps/a%40b/users/u%40v/terminate_connections', 'a@b')).toBe(
      '/apps/a%40b/users/u%40v/terminate_connections',
    );
  });
});
