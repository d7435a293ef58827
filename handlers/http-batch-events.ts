import { publishHandlerFromEnv } from '../src/publish/http-publish-runtime.js';

/** Pusher HTTP API publishing route (see `publishHandler`). */
export const handler = publishHandlerFromEnv('pusher-http-batch-events');
