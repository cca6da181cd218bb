/**
 * `GET /jobs:lookup?idPrefix=PREFIX`: the jobs whose id starts with a prefix, so a person can type
 * the 12 characters the console shows (or any 8+) instead of the whole id. Answers at most
 * `maxCandidates` jobs, in id order, and whether that is all of them; the caller decides what an
 * ambiguous prefix means (the CLI lists the candidates). One Firestore range query on the
 * document id: no index to maintain, cost bounded by the candidates read.
 */
import { z } from 'zod';
import { publicView } from '../../shared/jobs/index.ts';
import type { ApiDeps } from './deps.ts';
import { ApiError, invalidArgument } from './errors.ts';

export const minIdPrefixLength = 8;
export const maxCandidates = 10;

const LookupQuery = z.strictObject({
  idPrefix: z
    .string()
    .regex(/^[A-Za-z0-9_-]*$/, 'must be letters, digits, _ or -')
    .min(minIdPrefixLength, `must be at least ${minIdPrefixLength} characters`)
    .max(128, 'must be at most 128 characters'),
});

export async function lookupJobs(deps: ApiDeps, query: URLSearchParams) {
  const names = [...query.keys()];
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  if (repeated !== undefined) {
    throw new ApiError('INVALID_ARGUMENT', `${repeated}: give it once`, [
      { field: repeated, description: 'repeated' },
    ]);
  }
  const parsed = LookupQuery.safeParse(Object.fromEntries(query));
  if (!parsed.success) throw invalidArgument(parsed.error, 'query');
  const found = await deps.store.findByIdPrefix(parsed.data.idPrefix, maxCandidates + 1);
  return {
    jobs: found.slice(0, maxCandidates).map(publicView),
    complete: found.length <= maxCandidates,
  };
}
