import middy from '@middy/core';
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { createAppResolver } from '../src/apps/index.js';
import { createDecisionLog, FAST_AUTHORIZER } from '../src/authorizers/decision-log.js';
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
  metrics: new CounterMetrics(),
});

/** REQUEST authorizer on the WebSocket `$connect` route (identity source: the `appKey` query parameter). */
export const handler = middy<WsConnectAuthorizerEvent, APIGatewayAuthorizerResult>(FAST_AUTHORIZER)
  .use(lambdaContextLogging(logger))
  .handler(async (event) => {
    const startedAt = performance.now();
    const appKey = event.queryStringParameters?.appKey;
    try {
      const decision = await decideWebSocketConnect(event.queryStringParameters, resolver);
      if (decision.allow) logDecision({ decision: 'allow', appId: decision.app.id, appKey, startedAt });
      else logDecision({ decision: 'deny', reason: decision.reason, appKey, startedAt });
      return connectAuthorizerResult(event, decision);
    } catch (error) {
      logDecision({ decision: 'error', reason: String(error), appKey, startedAt });
      throw error;
    }
  });
