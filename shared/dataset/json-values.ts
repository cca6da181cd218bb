/**
 * Small predicates and wording shared by the dataset rules: what a parsed JSON value is, how a
 * finding names it, and how a key becomes a JSON pointer segment (RFC 6901).
 */

/** A JSON object: not null, not an array. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What a value is, for a message that says what was expected instead ("got a string"). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

export function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/** A key as one JSON pointer segment: `~` and `/` escaped as RFC 6901 says. */
export function escapePointer(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}
