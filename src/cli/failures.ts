import {
  AppAlreadyExistsError,
  AppKeyInUseError,
  DuplicateAppKeyError,
  InvalidAppItemError,
  PusherLambdaError,
} from '../errors/errors.js';
import { describeTarget, type TableTarget } from './target.js';

/** DynamoDB operations a command calls, for the IAM advice on AccessDeniedException. */
export type DynamoDbAction =
  | 'CreateTable'
  | 'DeleteItem'
  | 'DescribeTable'
  | 'GetItem'
  | 'PutItem'
  | 'Query'
  | 'Scan'
  | 'UpdateItem';

const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);
const TIMEOUT_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
const REJECTED_CREDENTIAL_NAMES = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'MissingAuthenticationTokenException',
]);
const THROTTLING_NAMES = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
]);

/** What to do about the project's own errors, where the message alone does not say. */
function advice(error: PusherLambdaError): string {
  if (error instanceof InvalidAppItemError)
    return ' Run "apps doctor" to see what soketi read and what --fix can do.';
  if (error instanceof DuplicateAppKeyError)
    return ' Give one of the apps a new key: apps update <id> --key <new key>.';
  if (error instanceof AppKeyInUseError)
    return ' Choose a key no other app uses (create generates one when --key is left out).';
  if (error instanceof AppAlreadyExistsError)
    return ' Choose another --id, or change that app with apps update.';
  return '';
}

/**
 * One sentence or two for a person: what failed, on which table, region and endpoint, and what to do.
 * Never a stack trace, never a secret (SDK messages name resources and principals, not keys).
 * `target` is undefined for failures before the table was chosen (a bad environment variable).
 */
export function explainFailure(
  error: unknown,
  target: TableTarget | undefined,
  actions: readonly DynamoDbAction[],
): string {
  if (error instanceof PusherLambdaError) {
    const more = advice(error);
    return more && !error.message.endsWith('.') ? `${error.message}.${more}` : `${error.message}${more}`;
  }
  if (target === undefined) return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const where = describeTarget(target);
  const name = error instanceof Error ? error.name : typeof error;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | undefined)?.code;

  if (name === 'ResourceNotFoundException') {
    return (
      `DynamoDB ${where} does not exist, or lacks its AppKeyIndex index. Create it with "apps create-table" ` +
      "(soketi's schema: hash key AppId, index AppKeyIndex on AppKey), deploy the stack that owns it, or set " +
      'APP_MANAGER_DYNAMODB_TABLE and APP_MANAGER_DYNAMODB_REGION (or --table, --region) to the existing table.'
    );
  }
  if (name === 'CredentialsProviderError') {
    return (
      `No AWS credentials found to reach ${where}. Set AWS_PROFILE (or --profile), or AWS_ACCESS_KEY_ID and ` +
      'AWS_SECRET_ACCESS_KEY, or run where an IAM role is available. A local endpoint accepts any non-empty keys.'
    );
  }
  if (name === 'AccessDeniedException') {
    const index = actions.includes('Query') ? ` and its index table/${target.table}/index/AppKeyIndex` : '';
    return (
      `Access denied to ${where}: ${message}${message.endsWith('.') ? '' : '.'} This command needs ` +
      `${actions.map((action) => `dynamodb:${action}`).join(', ')} on ` +
      `arn:aws:dynamodb:${target.region}:<account>:table/${target.table}${index}.`
    );
  }
  if (REJECTED_CREDENTIAL_NAMES.has(name)) {
    return `AWS rejected the credentials used for ${where} (${name}). Check AWS_PROFILE or the access keys, or refresh an expired session.`;
  }
  if (THROTTLING_NAMES.has(name)) {
    return `DynamoDB throttled the requests to ${where} (${name}). Try again in a moment.`;
  }
  if ((typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) || TIMEOUT_NAMES.has(name)) {
    const endpoint = target.endpoint ?? `the AWS endpoint of ${target.region}`;
    return (
      `Cannot reach DynamoDB at ${endpoint} for ${where} (${typeof code === 'string' ? code : name}). ` +
      'Check APP_MANAGER_DYNAMODB_ENDPOINT (or --endpoint), the region and the network.'
    );
  }
  if (name === 'ResourceInUseException') return `DynamoDB ${where} already exists (or is being changed).`;
  if (error instanceof Error && '$metadata' in error) {
    return `DynamoDB refused a request to ${where}: ${name}: ${message}`;
  }
  return `${name}: ${message} (run with --debug for details)`;
}
