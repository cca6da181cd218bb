/**
 * What the API accepts, as zod schemas: the list query and the bodies of the custom methods.
 * Unknown fields are rejected, so a misspelt parameter is an error instead of a silent no-op.
 */
import { z } from 'zod';
import { jobStates, rejectedState } from '../../shared/jobs/index.ts';

/** What `state=` may name: a job state, or REJECTED for uploads that failed validation. */
export const ListedState = z.enum([...jobStates, rejectedState]);

export const maxListPageSize = 500;

/** A job id as tunedrop makes them (32 hex), with room for ids made by hand in tests and tools. */
export const JobId = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'must be 1-128 letters, digits, _ or -');

const LabelFilter = z
  .string()
  .regex(/^[^=]+=.*$/, 'must be key=value')
  .transform((pair) => {
    const at = pair.indexOf('=');
    return [pair.slice(0, at), pair.slice(at + 1)] as const;
  });

export const ListJobsQuery = z.strictObject({
  /** Repeatable and comma-separated: `state=RUNNING&state=PENDING` or `state=RUNNING,PENDING`. */
  state: z.array(
    z.preprocess((value) => (typeof value === 'string' ? value.toUpperCase() : value), ListedState),
  ),
  /** Repeatable `key=value`; a job must carry all of them. */
  label: z.array(LabelFilter),
  pageSize: z.coerce
    .number()
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(maxListPageSize, `must be at most ${maxListPageSize}`)
    .optional(),
  pageToken: z.string().min(1, 'must not be empty').optional(),
});
export type ListJobsQuery = z.infer<typeof ListJobsQuery>;

/** Turns URL query parameters into the shape ListJobsQuery validates (lists for repeatables). */
export function listQueryInput(params: URLSearchParams): Record<string, unknown> {
  const state: string[] = [];
  const label: string[] = [];
  // A Map, then fromEntries: a parameter named `__proto__` stays an own (unknown) key, not a prototype.
  const others = new Map<string, string>();
  for (const [key, value] of params) {
    if (key === 'state') {
      state.push(
        ...value
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean),
      );
    } else if (key === 'label') {
      label.push(value);
    } else if (!others.has(key)) {
      others.set(key, value);
    }
  }
  return Object.fromEntries([['state', state], ['label', label], ...others]);
}

export const ApproveBody = z.strictObject({
  /** Who approves, when the request carries no authenticated identity (the local stack). */
  approvedBy: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(256, 'must be at most 256 characters')
    .optional(),
});

export const CancelBody = z.strictObject({
  reason: z.string().trim().min(1, 'must not be empty').max(500, 'must be at most 500 characters').optional(),
});

export const ReplayBody = z.strictObject({});
