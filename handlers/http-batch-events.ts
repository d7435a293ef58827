import { publishHandlerFromEnv } from '../src/http-api/runtime.js';

/** Pusher HTTP API publishing route (see `publishHandler`). */
export const handler = publishHandlerFromEnv('pusher-http-batch-events');
