import middy from '@middy/core';
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { createAppResolver } from '../src/apps/index.js';
import { createDecisionLog, FAST_AUTHORIZER, logged } from '../src/authorizers/decision-log.js';
import { connectAuthorizerResult, decideWebSocketConnect } from '../src/authorizers/websocket-connect.js';
import { loadConfig } from '../src/config/config.js';
import type { WsConnectAuthorizerEvent } from '../src/gateway/events.js';
import { createLogger, lambdaContextLogging } from '../src/observability/logger.js';
import { CounterMetrics } from '../src/observability/metrics.js';

const config = loadConfig();
const logger = createLogger('pusher-ws-connect-authorizer');
const resolver = createAppResolver({ config, logger });
const logDecision = createDecisionLog(logger, {
  stats: () => resolver.stats(),
  metrics: new CounterMetrics('pusher-ws-connect-authorizer'),
});

/** REQUEST authorizer on the WebSocket `$connect` route (identity source: the `appKey` query parameter). */
export const handler = middy<WsConnectAuthorizerEvent, APIGatewayAuthorizerResult>(FAST_AUTHORIZER)
  .use(lambdaContextLogging(logger))
  .handler((event) =>
    logged(logDecision, { appKey: event.queryStringParameters?.appKey }, async () => {
      const decision = await decideWebSocketConnect(event.queryStringParameters, resolver);
      const result = connectAuthorizerResult(event, decision);
      return decision.allow
        ? { result, decision: 'allow', appId: decision.app.id }
        : { result, decision: 'deny', reason: decision.reason };
    }),
  );
