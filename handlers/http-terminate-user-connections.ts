import { terminateHandlerFromEnv } from '../src/http-api/runtime.js';

/** Pusher HTTP API terminate route (see `terminateHandler`): posts and disconnects, never invokes. */
export const handler = terminateHandlerFromEnv('pusher-http-terminate-user-connections');
