// What stands in front of the Lambdas against floods: API Gateway's throttling of the HTTP API stage and of
// the WebSocket `$connect` route, and an optional WAF web ACL on the CloudFront distribution
// (docs/deploy.md#throttling-and-waf). Each value comes from a stage parameter; a bad one fails packaging
// with an error naming it.
//
// Loaded by serverless.yml through `${file(...)}` (osls requires CommonJS here).

/**
 * A tenth of the account's API Gateway budget in the region (10,000 requests per second, bursts of 5,000,
 * shared by every REST, HTTP and WebSocket API and by `@connections` posts): a flood of unsigned requests,
 * each an authorizer invocation, is bounded in cost and cannot starve the account's other APIs.
 */
const HTTP_API = {
  rate: 'httpApiThrottleRate',
  rateDefault: 1000,
  burst: 'httpApiThrottleBurst',
  burstDefault: 500,
};

/**
 * Half the account's 500 new WebSocket connections per second in the region, all 500 in one burst (a
 * reconnect wave after a network blip): a flood of random-key connects, each four Lambda invocations and a
 * GSI Query, is bounded in cost and leaves the account's other WebSocket APIs their half.
 */
const CONNECT = {
  rate: 'connectThrottleRate',
  rateDefault: 250,
  burst: 'connectThrottleBurst',
  burstDefault: 500,
};

/** A web ACL of scope CLOUDFRONT: WAF keeps those in us-east-1, under `global/`. */
const WEB_ACL_ARN = /^arn:aws:wafv2:us-east-1:\d{12}:global\/webacl\/[\w-]{1,128}\/[\w-]{1,36}$/;

/** Rate (requests per second, above 0) and burst (a whole number of requests, at least 1) of a stage parameter pair. */
async function throttleOf(resolveVariable, { rate, rateDefault, burst, burstDefault }) {
  const [rateValue, burstValue] = await Promise.all([
    resolveVariable(`param:${rate}, "${rateDefault}"`),
    resolveVariable(`param:${burst}, "${burstDefault}"`),
  ]);
  const rateLimit = numberOf(rateValue);
  if (!(rateLimit > 0)) {
    throw new Error(
      `${rate} must be a number of requests per second above 0, got ${JSON.stringify(rateValue)}`,
    );
  }
  const burstLimit = numberOf(burstValue);
  if (!(Number.isInteger(burstLimit) && burstLimit >= 1)) {
    throw new Error(
      `${burst} must be a whole number of requests, at least 1, got ${JSON.stringify(burstValue)}`,
    );
  }
  return { ThrottlingRateLimit: rateLimit, ThrottlingBurstLimit: burstLimit };
}

/** A parameter as a number; NaN for anything else (`Number('')` would be 0). */
function numberOf(value) {
  const text = String(value).trim();
  return text === '' ? Number.NaN : Number(text);
}

/**
 * The HTTP API `$default` stage's default route settings: every route throttled. They replace serverless's
 * own, which carry only `httpApi.metrics` (not set here).
 */
async function httpApiThrottle({ resolveVariable }) {
  return throttleOf(resolveVariable, HTTP_API);
}

/**
 * The WebSocket stage's settings for `$connect` only. Never on `$default`: API Gateway answers a throttled
 * message itself, with a frame without `event` that pusher-js throws on.
 */
async function connectThrottle({ resolveVariable }) {
  return throttleOf(resolveVariable, CONNECT);
}

/** The distribution's `WebACLId`: the `webAclArn` stage parameter, checked; none without it. */
async function webAclId({ resolveVariable }) {
  const [arn, cloudFront] = await Promise.all([
    resolveVariable('param:webAclArn, ""'),
    resolveVariable('param:cloudFront, "false"'),
  ]);
  const value = String(arn).trim();
  if (value === '') return { Ref: 'AWS::NoValue' };
  if (!WEB_ACL_ARN.test(value)) {
    throw new Error(
      'webAclArn must be the ARN of a WAF web ACL of scope CLOUDFRONT, which lives in us-east-1 ' +
        `(arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>), got ${JSON.stringify(value)}`,
    );
  }
  if (String(cloudFront) !== 'true') {
    throw new Error('webAclArn is attached to the CloudFront distribution: it needs cloudFront=true');
  }
  return value;
}

module.exports = { httpApiThrottle, connectThrottle, webAclId };
