import Pusher from 'pusher';
import type { LocalStack } from '../../src/local/stack.js';
import type { SigningApp } from './auth-server.js';

/** What every SDK HTTP call returns: node-fetch's response, not the global fetch's. */
export type SdkCall = ReturnType<Pusher['post']>;

/** An SDK call that hangs is a failure with a message, not a test timeout. */
const REQUEST_TIMEOUT_MS = 15_000;

/** The real `pusher` server SDK pointed at the local stack's front door, as an app's backend configures it. */
export function serverSdk(stack: LocalStack, app: SigningApp): Pusher {
  return new Pusher({
    appId: app.id,
    key: app.key,
    secret: app.secret,
    host: '127.0.0.1',
    port: String(stack.port),
    useTLS: false,
    timeout: REQUEST_TIMEOUT_MS,
  });
}

/** What an SDK call was answered: the status and the body (plain text for a refusal). */
export interface Answer {
  readonly status: number;
  readonly body: string;
}

/**
 * The answer to an SDK call, whether it succeeded or the SDK rejected it with a `RequestError` (status ≥ 400).
 * Rejects if the call failed some other way: the SDK's own validation, a network error.
 */
export async function answerOf(call: SdkCall): Promise<Answer> {
  try {
    const response = await call;
    return { status: response.status, body: await response.text() };
  } catch (error) {
    if (error instanceof Pusher.RequestError && error.status !== undefined) {
      return { status: error.status, body: error.body ?? '' };
    }
    throw error;
  }
}

/** The status and body of the `RequestError` an SDK call rejected with; rejects if the call succeeded. */
export async function refusalOf(call: SdkCall): Promise<Answer> {
  const answer = await answerOf(call);
  if (answer.status < 400) throw new Error(`expected a refusal, got ${answer.status} ${answer.body}`);
  return answer;
}

/**
 * The JSON body of a successful SDK call. A refusal rejects with its status and body in the message: the
 * SDK's own message says only "Unexpected status code N".
 */
export async function jsonOf<T>(call: SdkCall): Promise<T> {
  const response = await call.catch((error: unknown) => {
    if (error instanceof Pusher.RequestError) {
      throw new Error(`${error.message}: ${error.body ?? String(error.error)}`);
    }
    throw error;
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`expected 200, got ${response.status} ${text}`);
  return JSON.parse(text) as T;
}
