import { httpApiHandlerFromEnv } from '../src/publish/http-runtime.js';

/** Pusher HTTP API route (see `httpApiHandler`): every endpoint shares one implementation. */
export const handler = httpApiHandlerFromEnv('pusher-http-channel');
