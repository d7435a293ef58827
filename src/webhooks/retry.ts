/** What one delivery attempt came to. */
export type AttemptOutcome =
  | { readonly kind: 'delivered'; readonly status: number }
  /** Worth another attempt: a network error, a timeout, 408, 409, 425, 429 or 5xx. */
  | { readonly kind: 'retry'; readonly reason: string }
  /** Never worth another: any other answer, or a target this stage may not reach. */
  | { readonly kind: 'permanent'; readonly reason: string };

const RETRYABLE_STATUS = new Set([408, 409, 425, 429]);

/** A receiver's HTTP status as an outcome: 2xx delivered; 408, 409, 425, 429, 5xx retried; the rest final. */
export function outcomeOfStatus(status: number): AttemptOutcome {
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  if (status >= 500 || RETRYABLE_STATUS.has(status)) return { kind: 'retry', reason: `HTTP ${status}` };
  if (status >= 300 && status < 400)
    return { kind: 'permanent', reason: `HTTP ${status} (redirects are not followed)` };
  return { kind: 'permanent', reason: `HTTP ${status}` };
}

/** The longest wait between attempts. */
export const MAX_BACKOFF_SECONDS = 60;

/**
 * Seconds to wait before attempt `attempts + 1`: 1, 2, 4 … up to 60, each drawn at random from its upper half
 * (so retries of many webhooks do not come back together), whole seconds as SQS delays are, at least 1.
 */
export function backoffSeconds(attempts: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_SECONDS, 2 ** Math.max(0, attempts - 1));
  return Math.max(1, Math.ceil(ceiling / 2 + (random() * ceiling) / 2));
}

/**
 * When the next attempt would run, or undefined when it would fall past the budget (`timeMs` plus
 * `budgetMs`): the body then goes to the dead-letter queue.
 */
export function nextAttemptDelay(
  attempts: number,
  timeMs: number,
  budgetMs: number,
  nowMs: number,
  random: () => number = Math.random,
): number | undefined {
  const delay = backoffSeconds(attempts, random);
  return nowMs + delay * 1000 <= timeMs + budgetMs ? delay : undefined;
}
