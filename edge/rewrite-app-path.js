// CloudFront Function (runtime cloudfront-js-2.0, viewer-request) in front of the API Gateway WebSocket API.
//
// pusher-js always connects to /app/{key}?protocol=7&client=js&version=…&flash=false, but a WebSocket
// stage accepts no path of its own: /{stage}/app/{key} is refused with 403. This rewrites the path to /
// (the distribution's origin path supplies /{stage}) and hands the key to the $connect authorizer as the
// query parameter appKey, keeping the client's own parameters. A plain GET / (no upgrade) is the health
// answer (200, as soketi's health check answers): it says the edge is up, not that DynamoDB is. Any other
// path gets 404 at the edge.
//
// Deployed as is by serverless.yml and run as is by the local stack (src/local/edge-function.ts), so it
// must stay self-contained: no imports, no require, only what the CloudFront runtime offers.

const APP_PATH = /^\/app\/([^/]+)$/;

// biome-ignore lint/correctness/noUnusedVariables: CloudFront calls the function named handler.
function handler(event) {
  const request = event.request;
  const plain = request.headers.upgrade === undefined;
  if (request.uri === '/' && plain && (request.method === 'GET' || request.method === 'HEAD')) {
    return {
      statusCode: 200,
      statusDescription: 'OK',
      headers: { 'content-type': { value: 'text/plain' }, 'cache-control': { value: 'no-store' } },
      body: { encoding: 'text', data: 'OK' },
    };
  }
  const match = APP_PATH.exec(request.uri);
  if (match === null) {
    return { statusCode: 404, statusDescription: 'Not Found' };
  }
  request.uri = '/';
  // The key from the path wins over any appKey the client put in the query.
  request.querystring.appKey = { value: match[1] };
  return request;
}
