import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { CaptureServer } from './capture-server.js';
import { httpEventsFromCapturedRequest } from './events.js';
import { lambdaContext } from './lambda-context.js';

type RouteHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * A loopback stand-in for an HTTP API (payload 2.0, `$default` stage): each request a real client sends is
 * turned into the integration event API Gateway would build and answered with what the route Lambda returns,
 * so SDKs see real statuses and bodies.
 */
export function startHttpGateway(route: RouteHandler): Promise<CaptureServer> {
  return new CaptureServer({
    response: async (request) => {
      const { proxyEvent } = httpEventsFromCapturedRequest(request);
      const result = await route(proxyEvent, lambdaContext('route'));
      return {
        status: result.statusCode ?? 200,
        body: result.body ?? '',
        headers: Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)])),
      };
    },
  }).start();
}
