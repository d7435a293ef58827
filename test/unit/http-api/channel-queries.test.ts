import { describe, expect, it } from 'vitest';
import { UnknownEndpointError } from '../../../src/errors/errors.js';
import { channelQueryOf } from '../../../src/http-api/channel-queries.js';
import { batchAnswer, triggerAnswer } from '../../../src/http-api/publish-route.js';
import { attributesOf, type PublishOutcome } from '../../../src/publish/publish.js';

describe('channelQueryOf', () => {
  it('names the GET endpoint of a signed path', () => {
    expect(channelQueryOf('/apps/1/channels')).toEqual({ kind: 'channels' });
    expect(channelQueryOf('/apps/1/channels/presence-a')).toEqual({ kind: 'channel', channel: 'presence-a' });
    expect(channelQueryOf('/apps/1/channels/presence-a/users')).toEqual({
      kind: 'users',
      channel: 'presence-a',
    });
  });

  it('refuses other paths under /channels (the deprecated stats endpoint included) as unknown endpoints', () => {
    expect(() => channelQueryOf('/apps/1/channels/a/stats')).toThrow(UnknownEndpointError);
    expect(() => channelQueryOf('/apps/1/channels/a/users/b')).toThrow(UnknownEndpointError);
  });
});

describe('publish answers', () => {
  const counts = { subscriptionCount: 4, userCount: 2 };

  it('reports user_count only for presence channels', () => {
    expect(attributesOf('presence-x', ['user_count', 'subscription_count'], counts)).toEqual({
      user_count: 2,
      subscription_count: 4,
    });
    expect(attributesOf('private-x', ['user_count'], counts)).toEqual({});
  });

  it('answers {} without info, the channels with it, and a batch aligned by index', () => {
    const event = (info: ('user_count' | 'subscription_count')[]) => ({
      name: 'e',
      data: 'd',
      channels: ['c'],
      info,
    });
    const outcome: PublishOutcome = { recipients: 0, gone: 0, info: [{ c: { subscription_count: 1 } }, {}] };

    expect(triggerAnswer(event([]), outcome)).toEqual({});
    expect(triggerAnswer(event(['subscription_count']), outcome)).toEqual({
      channels: { c: { subscription_count: 1 } },
    });
    expect(batchAnswer([event([]), event([])], outcome)).toEqual({});
    expect(batchAnswer([event(['subscription_count']), event([])], outcome)).toEqual({
      batch: [{ subscription_count: 1 }, {}],
    });
  });
});
