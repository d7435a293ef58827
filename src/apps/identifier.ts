/** Longest app id or app key the resolver will look up. Longer ones cannot be real and are not queried. */
export const MAX_APP_IDENTIFIER_LENGTH = 256;

// Control characters (C0, DEL, C1) are never part of an id or key: garbage, or an injection attempt.
const CONTROL_CHARACTER = /\p{Cc}/u;

/**
 * Whether a string could be an app id or key at all. Lookups of anything else are answered
 * "not found" without asking DynamoDB (which would reject an empty key with a ValidationException)
 * and without taking a cache slot.
 */
export function isPossibleAppIdentifier(value: string): boolean {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= MAX_APP_IDENTIFIER_LENGTH &&
    !CONTROL_CHARACTER.test(value)
  );
}
