import middy from '@middy/core';
import type { APIGatewaySimpleAuthorizerWithContextResult } from 'aws-lambda';
import { createAppResolver } from '../src/apps/index.js';
import { createDecisionLog, FAST_AUTHORIZER } from '../src/authorizers/decision-log.js';
import { authorizeHttpApiRequest, type HttpAuthorizerContext } from '../src/authorizers/http-api.js';
import { loadConfig } from '../src/config/config.js';
import type { HttpAuthorizerEvent } from '../src/gateway/events.js';
import { createLogger, lambdaContextLogging } from '../src/observability/logger.js';
import { CounterMetrics } from '../src/observability/metrics.js';

const config = loadConfig();
const logger = createLogger('pusher-http-authorizer');
const resolver = createAppResolver({ config, logger });
const logDecision = createDecisionLog(logger, {
  stats: () => resolver.stats(),
  metrics: new CounterMetrics(),
});

/** Lambda REQUEST authorizer for HTTP API `/apps/{appId}/...` routes (payload 2.0, simple responses, no caching). */
export const handler = middy<
  HttpAuthorizerEvent,
  APIGatewaySimpleAuthorizerWithContextResult<HttpAuthorizerContext | Record<string, never>>
>(FAST_AUTHORIZER)
  .use(lambdaContextLogging(logger))
  .handler(async (event) => {
    const startedAt = performance.now();
    try {
      const decision = await authorizeHttpApiRequest(event, { resolver });
      if (decision.isAuthorized) {
        logDecision({ decision: 'allow', appId: decision.context.appId, startedAt });
        return { isAuthorized: true, context: decision.context };
      }
      logDecision({ decision: 'deny', reason: decision.reason, appId: decision.appId, startedAt });
      return { isAuthorized: false, context: {} };
    } catch (error) {
      logDecision({
        decision: 'error',
        reason: String(error),
        appId: event.pathParameters?.appId,
        startedAt,
      });
      throw error;
    }
  });
