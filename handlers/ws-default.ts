import middy from '@middy/core';
import { createAppResolver } from '../src/apps/resolver.js';
import { loadConfig } from '../src/config/config.js';
import type { WsProxyEvent } from '../src/gateway/events.js';
import { createGatewayRuntime, messageContexts } from '../src/gateway/runtime.js';
import { webhookInvocations } from '../src/gateway/webhook-runtime.js';
import { createRateLimiter } from '../src/limits/rate-limiter.js';
import { lambdaContextLogging } from '../src/observability/logger.js';
import { encodeFrame } from '../src/protocol/frames.js';
import { fanOutOptionsFromEnv } from '../src/publish/fan-out-config.js';
import { handleMessage } from '../src/websocket/default-route.js';

const runtime = createGatewayRuntime('pusher-ws-default');
const resolver = createAppResolver({ config: loadConfig(), logger: runtime.logger });
const contextAt = messageContexts(runtime, createRateLimiter({ ...runtime.state, logger: runtime.logger }));
const withWebhooks = webhookInvocations(runtime);
const fanOut = fanOutOptionsFromEnv(process.env, runtime.config.region);

/**
 * WebSocket `$default` route: every client message (`pusher:ping`, `pusher:subscribe`, ...). The answer to
 * the sender is the returned body, which the route's `$default` route response sends back.
 */
export const handler = middy<WsProxyEvent, { statusCode: 200; body?: string }>()
  .use(lambdaContextLogging(runtime.logger))
  .handler(async (event, lambda) => {
    const context = contextAt(runtime.endpointOf(event.requestContext));
    const remainingMs = lambda.getRemainingTimeInMillis();
    const reply = await withWebhooks(context, (invocation) =>
      handleMessage(invocation, resolver, event, remainingMs, fanOut),
    );
    return reply === undefined ? { statusCode: 200 } : { statusCode: 200, body: encodeFrame(reply) };
  });
