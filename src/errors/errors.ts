/**
 * Named errors. Each carries the HTTP status a handler should answer with and, where the
 * WebSocket protocol has one, the Pusher error code; handlers map them in one place.
 * Messages never contain secrets.
 */
export abstract class PusherLambdaError extends Error {
  abstract readonly status: number;
  /** Pusher WebSocket error code (4000-4399), when the error can reach a WebSocket client. */
  readonly pusherCode: number | undefined = undefined;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A configuration variable is missing or malformed. Thrown at cold start. */
export class ConfigError extends PusherLambdaError {
  readonly status = 500;
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
  }
}

/**
 * A route behind the `$connect` authorizer got a context without what that authorizer sets: the authorizer is
 * not configured on the route, or an older version of it answered. Never read as a default.
 */
export class AuthorizerContextError extends PusherLambdaError {
  readonly status = 500;
}

export interface FieldProblem {
  readonly field: string;
  readonly problem: string;
}

/** An app item in DynamoDB cannot be used as it is; names every bad field. */
export class InvalidAppItemError extends PusherLambdaError {
  readonly status = 500;
  override readonly pusherCode = 4100;
  constructor(
    readonly appId: string | undefined,
    readonly problems: readonly FieldProblem[],
  ) {
    super(
      `Invalid app item${appId === undefined ? '' : ` ${appId}`}: ${problems.map((p) => `${p.field} ${p.problem}`).join('; ')}`,
    );
  }
}

/** Two or more items share one AppKey: the key is refused rather than resolved at random. */
export class DuplicateAppKeyError extends PusherLambdaError {
  readonly status = 500;
  override readonly pusherCode = 4100;
  constructor(
    readonly appKey: string,
    readonly appIds: readonly string[],
  ) {
    super(`App key ${appKey} is shared by apps ${appIds.join(', ')}; refusing it until the table is fixed`);
  }
}

/**
 * The app store could not answer (throttling, 5xx, timeout, network, access denied) and
 * nothing usable was cached. Retryable: never report it as "app not found".
 */
export class StoreUnavailableError extends PusherLambdaError {
  readonly status = 503;
  override readonly pusherCode = 4100;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** A query string cannot be decoded (a malformed percent-escape or invalid UTF-8). */
export class InvalidQueryStringError extends PusherLambdaError {
  readonly status = 400;
}

/** A request handed to `signRequest` cannot be signed as given (a reserved or repeated parameter). */
export class InvalidRequestToSignError extends PusherLambdaError {
  readonly status = 400;
}

/** An encryption master key is not base64 of exactly 32 bytes. The message never holds the key. */
export class InvalidEncryptionMasterKeyError extends PusherLambdaError {
  readonly status = 500;
}

/**
 * A request was refused. The message is what the client is told, so it names the problem and no secret.
 * `code`, when set, is what logs record instead of the message (a signature failure's message quotes the
 * client's signature, which logs must not hold).
 */
export abstract class RequestRejectedError extends PusherLambdaError {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** Missing or malformed parameters, or a per-request limit exceeded (channel count, name length, batch size). */
export class BadRequestError extends RequestRejectedError {
  readonly status = 400;
}

/** Bad signature, expired timestamp, key that is not the app's. */
export class AuthenticationError extends RequestRejectedError {
  readonly status = 401;
}

export class AppDisabledError extends RequestRejectedError {
  readonly status = 403;
  override readonly pusherCode = 4003;
  constructor(appId: string) {
    super(`The app ${appId} is disabled.`);
  }
}

export class AppNotFoundError extends RequestRejectedError {
  readonly status = 404;
  override readonly pusherCode = 4001;
  constructor(what: string) {
    super(`${what} does not exist.`);
  }
}

/** A signed request for an endpoint the Pusher HTTP API does not have. */
export class UnknownEndpointError extends RequestRejectedError {
  readonly status = 404;
  constructor(method: string, path: string) {
    super(`Unknown endpoint: ${method} ${path}`, 'unknown-endpoint');
  }
}

/** Event data over the app's `MaxEventPayloadInKb`. */
export class PayloadTooLargeError extends RequestRejectedError {
  readonly status = 413;
}

/** Over the app's `MaxBackendEventsPerSecond` or `MaxReadRequestsPerSecond`. */
export class RateLimitedError extends RequestRejectedError {
  readonly status = 429;
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message, 'rate-limited');
  }
}

/**
 * A request that needs more points than the app's rate limit gives in a whole second (a batch of more
 * events than `MaxBackendEventsPerSecond`, say): refused in every window, so not "too many, retry" (429)
 * but a request to split (400).
 */
export class RequestExceedsRateLimitError extends RequestRejectedError {
  readonly status = 400;
  constructor(
    readonly points: number,
    readonly limitPerSecond: number,
    readonly setting: string,
  ) {
    super(
      `This request needs ${points} ${points === 1 ? 'point' : 'points'}; the app's limit is ${limitPerSecond} per second (${setting}), so it can never be admitted.`,
      'exceeds-rate-limit',
    );
  }
}

/** A command line the apps CLI cannot act on: a bad flag value, a missing confirmation. Exit code 2. */
export class UsageError extends PusherLambdaError {
  readonly status = 400;
}

/** Creating an app whose id is taken. */
export class AppAlreadyExistsError extends PusherLambdaError {
  readonly status = 409;
  constructor(readonly appId: string) {
    super(`An app with id ${appId} already exists.`);
  }
}

/** Giving an app a key another app already has: the resolver would refuse both. */
export class AppKeyInUseError extends PusherLambdaError {
  readonly status = 409;
  constructor(
    readonly appKey: string,
    readonly appIds: readonly string[],
  ) {
    super(`App key ${appKey} is already used by app ${appIds.join(', ')}.`);
  }
}

/**
 * A `$default` invocation ran out of the time it may spend before promising a client anything (see
 * `MessageDeadline`): what it wrote is taken back, and the client is answered `ServerError`, try again.
 */
export class OutOfTimeError extends PusherLambdaError {
  readonly status = 503;
}

/**
 * A page of a fan-out lane could not be read. `after` is the connection id the lane was posted up to (none:
 * nothing of it was), where a replay resumes.
 */
export class FanOutPageError extends PusherLambdaError {
  readonly status = 503;
  constructor(
    readonly channel: string,
    readonly after: string | undefined,
    cause: unknown,
  ) {
    const where = after === undefined ? '' : ` after "${after}"`;
    super(`a page of ${JSON.stringify(channel)} could not be read${where}: ${String(cause)}`, { cause });
  }
}
