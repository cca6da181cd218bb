/**
 * zod issues as FieldIssues: a JSON pointer to the field and a short message, with a "did you
 * mean" for an unknown key close to a known one.
 */
import type { ZodError } from 'zod';
import { escapePointer } from '../dataset/json-values.ts';
import type { FieldIssue } from './manifest.ts';

export { escapePointer };

export function unescapePointer(segment: string): string {
  return segment.replaceAll('~1', '/').replaceAll('~0', '~');
}

function pointer(path: readonly PropertyKey[]): string {
  return path.map((segment) => `/${escapePointer(String(segment))}`).join('');
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** zod issues as FieldIssues with short messages; unknown keys get a "did you mean" when close. */
export function toFieldIssues(error: ZodError, knownFields: readonly string[] = []): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const issue of error.issues) {
    const path = pointer(issue.path);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const suggestion = issue.path.length === 0 ? closest(key, knownFields) : undefined;
        issues.push({
          path: `${path}/${escapePointer(key)}`,
          message: suggestion ? `unknown field (did you mean "${suggestion}"?)` : 'unknown field',
        });
      }
    } else if (issue.code === 'invalid_type' && issue.message.startsWith('Invalid input')) {
      const input = (issue as { input?: unknown }).input;
      issues.push({
        path,
        message:
          input === undefined && !path.includes('/', 1)
            ? 'is required'
            : `must be ${issue.expected === 'object' ? 'an object' : `a ${issue.expected}`}${input === undefined ? '' : `, got ${typeName(input)}`}`,
      });
    } else if (issue.code === 'invalid_value') {
      issues.push({
        path,
        message: `must be one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}`,
      });
    } else {
      issues.push({ path, message: issue.message });
    }
  }
  return issues;
}

/**
 * The known name `name` most likely meant (case- and separator-insensitive): within edit distance
 * 2, or sharing its first five characters (`epochs` → epochCount), or ending it (`displayName` →
 * tunedModelDisplayName).
 */
export function closest(name: string, known: readonly string[]): string | undefined {
  const normal = (value: string) => value.toLowerCase().replace(/[-_\s]/g, '');
  const wanted = normal(name);
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const target = normal(candidate);
    const distance = editDistance(wanted, target);
    const related =
      distance <= 2 ||
      (wanted.length >= 5 && target.slice(0, 5) === wanted.slice(0, 5)) ||
      (wanted.length >= 4 && target.endsWith(wanted));
    if (related && (!best || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}
