import middy from '@middy/core';
import { cleanUpConnections } from '../src/cleanup/cleanup.js';
import type { WsProxyEvent } from '../src/gateway/events.js';
import { createGatewayRuntime } from '../src/gateway/runtime.js';
import { webhookInvocations } from '../src/gateway/webhook-runtime.js';
import { lambdaContextLogging } from '../src/observability/logger.js';

const runtime = createGatewayRuntime('pusher-ws-disconnect');
const withWebhooks = webhookInvocations(runtime);

/**
 * WebSocket `$disconnect` route, best effort: AWS does not guarantee it runs, and what it fails to remove
 * expires by TTL. Reads nothing from the authorizer context (whether AWS passes it here is unconfirmed).
 */
export const handler = middy<WsProxyEvent, { statusCode: 200 }>()
  .use(lambdaContextLogging(runtime.logger))
  .handler(async (event) => {
    const { connectionId } = event.requestContext;
    const context = runtime.contextAt(runtime.endpointOf(event.requestContext));
    await withWebhooks(context, (invocation) => cleanUpConnections(invocation, [{ connectionId }]));
    return { statusCode: 200 };
  });
