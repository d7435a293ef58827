import middy from '@middy/core';
import { ConfigError } from '../src/errors.js';
import { createGatewayRuntime } from '../src/gateway/runtime.js';
import { lambdaContextLogging } from '../src/observability/logger.js';
import { parseFanOutJob, runFanOutJob } from '../src/publish/fan-out-worker.js';

const runtime = createGatewayRuntime('pusher-fan-out-worker');
const endpoint = runtime.config.connectionsEndpoint;
if (endpoint === undefined) throw new ConfigError('WEBSOCKET_API_ENDPOINT', 'required by the fan-out worker');
const context = runtime.contextAt(endpoint);

/**
 * Invoked asynchronously by the publishing routes with one share of a large channel's fan-out. It never
 * throws: a retry would post the whole share again to the connections that already got it.
 */
export const handler = middy<unknown, 'done' | 'invalid' | 'failed'>()
  .use(lambdaContextLogging(runtime.logger))
  .handler(async (payload) => {
    const job = parseFanOutJob(payload);
    if (job === undefined) {
      runtime.logger.error('invalid fan-out job', { payload: JSON.stringify(payload)?.slice(0, 500) });
      return 'invalid';
    }
    try {
      const gone = await runFanOutJob(context, job);
      runtime.logger.info('fan-out job', { appId: job.appId, posts: job.connectionIds.length, gone });
      return 'done';
    } catch (error) {
      runtime.logger.error('fan-out job failed', { appId: job.appId, error: String(error) });
      return 'failed';
    }
  });
