import middy from '@middy/core';
import type { APIGatewaySimpleAuthorizerWithContextResult } from 'aws-lambda';
import { createAppResolver } from '../src/apps/index.js';
import { createDecisionLog, FAST_AUTHORIZER, logged } from '../src/authorizers/decision-log.js';
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
  metrics: new CounterMetrics('pusher-http-authorizer'),
});

type HttpAuthorizerResult = APIGatewaySimpleAuthorizerWithContextResult<
  HttpAuthorizerContext | Record<string, never>
>;

/** Lambda REQUEST authorizer for HTTP API `/apps/{appId}/...` routes (payload 2.0, simple responses, no caching). */
export const handler = middy<HttpAuthorizerEvent, HttpAuthorizerResult>(FAST_AUTHORIZER)
  .use(lambdaContextLogging(logger))
  .handler((event) =>
    logged<HttpAuthorizerResult>(logDecision, { appId: event.pathParameters?.appId }, async () => {
      const decision = await authorizeHttpApiRequest(event, { resolver });
      return decision.isAuthorized
        ? { result: { isAuthorized: true, context: decision.context }, decision: 'allow' }
        : { result: { isAuthorized: false, context: {} }, decision: 'deny', reason: decision.reason };
    }),
  );
