import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { Webhook } from '../apps/app.js';
import { BlockedAddressError, guardedLookup, isBlockedAddress } from './address-guard.js';
import { mayInvoke, type WebhookSenderConfig } from './config.js';
import { type AttemptOutcome, outcomeOfStatus } from './retry.js';

/** A signed body ready to go: the exact bytes, and the headers that go with them (custom ones included). */
export interface SignedBody {
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** Sends a signed body to one webhook's target; never throws. */
export type Deliver = (webhook: Webhook, signed: SignedBody) => Promise<AttemptOutcome>;

/** soketi's region for a Lambda target whose config names none, kept so such configs reach their function. */
export const DEFAULT_LAMBDA_REGION = 'us-east-1';

/** The answer bodies read at most (a receiver's answer is not used, only drained for keep-alive). */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * The delivery of a sender container: keep-alive agents and Lambda clients made once and reused, the
 * stage's rules (private URLs, allowed functions, client endpoints) applied to every attempt.
 */
export function createDelivery(
  config: Pick<WebhookSenderConfig, 'timeoutMs' | 'allowPrivateUrls' | 'lambdaFunctions' | 'lambdaEndpoints'>,
): Deliver {
  const lookup = config.allowPrivateUrls ? undefined : guardedLookup;
  const agents = {
    'http:': new HttpAgent({ keepAlive: true, maxSockets: 50 }),
    'https:': new HttpsAgent({ keepAlive: true, maxSockets: 50 }),
  };
  const lambdaClients = new Map<string, LambdaClient>();
  const lambdaClient = (region: string, endpoint: string | undefined) => {
    const key = `${region} ${endpoint ?? ''}`;
    let client = lambdaClients.get(key);
    if (client === undefined) {
      client = new LambdaClient({
        region,
        ...(endpoint === undefined ? {} : { endpoint }),
        maxAttempts: 1,
        requestHandler: {
          connectionTimeout: 2_000,
          requestTimeout: config.timeoutMs,
          throwOnRequestTimeout: true,
        },
      });
      lambdaClients.set(key, client);
    }
    return client;
  };

  const post = (url: URL, signed: SignedBody): Promise<AttemptOutcome> =>
    new Promise((resolve) => {
      const hostname = url.hostname.replace(/^\[|\]$/g, '');
      if (lookup !== undefined && isIP(hostname) !== 0 && isBlockedAddress(hostname)) {
        resolve({ kind: 'permanent', reason: new BlockedAddressError(hostname).message });
        return;
      }
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const request = send(
        url,
        {
          method: 'POST',
          agent: agents[url.protocol as 'http:' | 'https:'],
          headers: { ...signed.headers, 'Content-Length': String(Buffer.byteLength(signed.body)) },
          timeout: config.timeoutMs,
          ...(lookup === undefined ? {} : { lookup }),
        },
        (response) => {
          let read = 0;
          response.on('data', (chunk: Buffer) => {
            read += chunk.length;
            if (read > MAX_ANSWER_BYTES) response.destroy();
          });
          response.on('error', () => undefined);
          response.on('close', () => resolve(outcomeOfStatus(response.statusCode ?? 0)));
        },
      );
      request.on('timeout', () => request.destroy(new Error(`no answer within ${config.timeoutMs} ms`)));
      request.on('error', (error) =>
        resolve(
          error instanceof BlockedAddressError
            ? { kind: 'permanent', reason: error.message }
            : { kind: 'retry', reason: error.message },
        ),
      );
      request.end(signed.body);
    });

  const invoke = async (
    webhook: Webhook,
    functionName: string,
    signed: SignedBody,
  ): Promise<AttemptOutcome> => {
    if (!mayInvoke(config.lambdaFunctions, functionName)) {
      return {
        kind: 'permanent',
        reason: `function ${functionName} is not one this stage may invoke (WEBHOOKS_LAMBDA_FUNCTIONS)`,
      };
    }
    const endpoint = config.lambdaEndpoints ? webhook.lambda?.clientOptions?.endpoint : undefined;
    const region = webhook.lambda?.region ?? webhook.region ?? DEFAULT_LAMBDA_REGION;
    // soketi's payload: the body as an object and the headers, signature included.
    const payload = JSON.stringify({ payload: JSON.parse(signed.body), headers: signed.headers });
    try {
      const output = await lambdaClient(region, endpoint).send(
        new InvokeCommand({
          FunctionName: functionName,
          InvocationType: webhook.lambda?.async ? 'Event' : 'RequestResponse',
          Payload: new TextEncoder().encode(payload),
        }),
      );
      if (output.FunctionError !== undefined)
        return { kind: 'retry', reason: `function error ${output.FunctionError}` };
      return outcomeOfStatus(output.StatusCode ?? 200);
    } catch (error) {
      const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
      const status = $metadata?.httpStatusCode;
      if (status !== undefined && status < 500 && status !== 429) {
        return { kind: 'permanent', reason: `Lambda Invoke refused: ${name ?? `HTTP ${status}`}` };
      }
      return { kind: 'retry', reason: `Lambda Invoke failed: ${name ?? String(error)}` };
    }
  };

  return (webhook, signed) =>
    webhook.url !== undefined
      ? post(new URL(webhook.url), signed)
      : invoke(webhook, webhook.lambdaFunction ?? '', signed);
}
