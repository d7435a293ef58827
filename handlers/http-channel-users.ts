import { channelQueryHandlerFromEnv } from '../src/http-api/runtime.js';

/** Pusher HTTP API read route (see `channelQueryHandler`): never posts, never invokes. */
export const handler = channelQueryHandlerFromEnv('pusher-http-channel-users');
