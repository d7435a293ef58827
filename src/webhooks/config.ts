import { type Env, readBoolean, readNumber, readUrl, readVariable } from '../config/env.js';
import { ConfigError } from '../errors/errors.js';

/** The retry budget's ceiling: pusher-http-python refuses a body whose `time_ms` is 300 s old. */
export const MAX_RETRY_BUDGET_SECONDS = 270;

/** What a stage lets webhooks reach: read by the sender, and by `apps doctor` to say what it cannot deliver. */
export interface WebhookTargetRules {
  /** `WEBHOOKS_ALLOW_PRIVATE_URLS`: whether URLs may reach loopback, link-local and private addresses. */
  readonly allowPrivateUrls: boolean;
  /**
   * `WEBHOOKS_LAMBDA_FUNCTIONS`: the functions a `lambda_function` webhook may invoke, comma-separated names
   * or ARNs, each optionally ending in `*` (a prefix); `*` alone allows any. Empty: none.
   */
  readonly lambdaFunctions: readonly string[];
  /** `WEBHOOKS_LAMBDA_ENDPOINTS`: whether `lambda.client_options.endpoint` is honoured. */
  readonly lambdaEndpoints: boolean;
}

export function loadWebhookTargetRules(env: Env = process.env): WebhookTargetRules {
  return Object.freeze({
    allowPrivateUrls: readBoolean(env, 'WEBHOOKS_ALLOW_PRIVATE_URLS', false),
    lambdaFunctions: (readVariable(env, 'WEBHOOKS_LAMBDA_FUNCTIONS')?.value ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== ''),
    lambdaEndpoints: readBoolean(env, 'WEBHOOKS_LAMBDA_ENDPOINTS', false),
  });
}

/** What the webhook sender reads from the environment (soketi's names also with the `SOKETI_` prefix). */
export interface WebhookSenderConfig extends WebhookTargetRules {
  /** `WEBHOOK_QUEUE_URL`: where retries are enqueued (the queue the sender consumes). */
  readonly queueUrl: string;
  /** `WEBHOOK_DEAD_LETTER_QUEUE_URL`: where exhausted and permanent failures go, with their reason. */
  readonly deadLetterQueueUrl: string;
  /** `WEBHOOKS_BATCHING` (soketi's): several events per body (at most 100); off, one event per body. */
  readonly batching: boolean;
  /** `WEBHOOKS_RETRY_BUDGET_SECONDS`: retries end this long after the body's `time_ms` (at most 270). */
  readonly retryBudgetMs: number;
  /** `WEBHOOKS_TIMEOUT_MS`: one attempt's limit (10 s). */
  readonly timeoutMs: number;
}

export function loadWebhookSenderConfig(env: Env = process.env): WebhookSenderConfig {
  const required = (name: string) => {
    const url = readUrl(env, name);
    if (url === undefined) throw new ConfigError(name, 'required by the webhook sender');
    return url;
  };
  return Object.freeze({
    queueUrl: required('WEBHOOK_QUEUE_URL'),
    deadLetterQueueUrl: required('WEBHOOK_DEAD_LETTER_QUEUE_URL'),
    batching: readBoolean(env, 'WEBHOOKS_BATCHING', false),
    retryBudgetMs:
      1000 *
      readNumber(env, 'WEBHOOKS_RETRY_BUDGET_SECONDS', MAX_RETRY_BUDGET_SECONDS, {
        min: 0,
        max: MAX_RETRY_BUDGET_SECONDS,
      }),
    timeoutMs: readNumber(env, 'WEBHOOKS_TIMEOUT_MS', 10_000, { integer: true, min: 1, max: 60_000 }),
    ...loadWebhookTargetRules(env),
  });
}

/** Whether the stage lets a webhook invoke `functionName` (see `lambdaFunctions`). */
export function mayInvoke(allowed: readonly string[], functionName: string): boolean {
  return allowed.some((entry) =>
    entry.endsWith('*') ? functionName.startsWith(entry.slice(0, -1)) : functionName === entry,
  );
}
