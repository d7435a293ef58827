import { describe, expect, it } from 'vitest';
import { explainFailure } from '../../../src/cli/failures.js';
import type { TableTarget } from '../../../src/cli/target.js';
import { InvalidAppItemError } from '../../../src/errors/errors.js';

const ON_AWS: TableTarget = { table: 'apps', region: 'eu-west-1', endpoint: undefined, profile: undefined };

/** An error shaped as the SDK throws it (a name, and $metadata for service errors). */
function sdkError(name: string, message = 'm', extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { name, ...extra });
}

describe('explainFailure', () => {
  it.each([
    [
      'ThrottlingException',
      'DynamoDB throttled the requests to table "apps" in eu-west-1 on AWS (ThrottlingException). Try again in a moment.',
    ],
    [
      'ExpiredTokenException',
      'AWS rejected the credentials used for table "apps" in eu-west-1 on AWS (ExpiredTokenException). Check AWS_PROFILE or the access keys, or refresh an expired session.',
    ],
    [
      'TimeoutError',
      'Cannot reach DynamoDB at the AWS endpoint of eu-west-1 for table "apps" in eu-west-1 on AWS (TimeoutError). Check APP_MANAGER_DYNAMODB_ENDPOINT (or --endpoint), the region and the network.',
    ],
  ])('explains %s', (name, text) => {
    expect(explainFailure(sdkError(name), ON_AWS, ['Scan'])).toBe(text);
  });

  it('passes other service errors on with their message, and anything else with a hint', () => {
    expect(explainFailure(sdkError('ValidationException', 'bad key', { $metadata: {} }), ON_AWS, [])).toBe(
      'DynamoDB refused a request to table "apps" in eu-west-1 on AWS: ValidationException: bad key',
    );
    expect(explainFailure(new TypeError('boom'), ON_AWS, [])).toBe(
      'TypeError: boom (run with --debug for details)',
    );
  });

  it("adds advice to the project's own errors", () => {
    const error = new InvalidAppItemError('a', [{ field: 'Enabled', problem: 'must be a boolean' }]);
    expect(explainFailure(error, undefined, [])).toBe(
      'Invalid app item a: Enabled must be a boolean. Run "apps doctor" to see what soketi read and what --fix can do.',
    );
  });
});
