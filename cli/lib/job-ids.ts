/**
 * Job ids as people type them: the console and tables show the first 12 of the 32 characters, and
 * any unique prefix of 8 or more names its job, the way git and docker take short ids. The API
 * finds the candidates (`GET /jobs:lookup?idPrefix=`, one Firestore range query on the document
 * id); an ambiguous prefix lists them, so the person can type one more character or two.
 */
import { type ApiClient, ApiRequestError, type JobLookup, type JobView } from './api-client.ts';
import { UsageError } from './usage.ts';

/** The shortest prefix accepted: 8 hex characters are 4 billion values, rarely ambiguous. */
export const minIdPrefix = 8;
/** tunedrop's ids are 32 hex characters (jobIdFor); one that long is taken as it is. */
const fullIdLength = 32;
/** How many characters of an id the console and the tables show. */
export const shortIdLength = 12;

/** The prefix matched no job, or more than one: the API did not fail, the id did (exit 1). */
export class JobIdError extends Error {
  override readonly name = 'JobIdError';
}

const describe = (job: JobView) =>
  `  ${job.id}  ${job.state.padEnd(10)}  ${job.createTime}  ${job.source.object}`;

/** The full id of the one job `typed` names; throws UsageError or JobIdError when there is none. */
export async function resolveJobId(client: ApiClient, typed: string): Promise<string> {
  const id = typed.trim();
  if (id.length < minIdPrefix) {
    throw new UsageError(
      `job ID "${id}" is too short: give the id or a prefix of at least ${minIdPrefix} characters`,
    );
  }
  if (id.length >= fullIdLength) return id;
  let found: JobLookup;
  try {
    found = await client.lookup(id);
  } catch (error) {
    // An API from before short ids has no lookup route: the id is then taken as it is typed.
    if (error instanceof ApiRequestError && error.httpStatus === 404) return id;
    throw error;
  }
  const { jobs, complete } = found;
  // An id that is itself a prefix of a longer one (ids made by hand) still names itself.
  const exact = jobs.find((job) => job.id === id);
  if (exact) return exact.id;
  if (jobs.length === 1) return jobs[0]!.id;
  if (jobs.length === 0) throw new JobIdError(`no job id starts with ${id}`);
  const more = complete ? '' : '\n  ... and more';
  throw new JobIdError(
    `job ID prefix ${id} is ambiguous; it matches ${complete ? jobs.length : `${jobs.length} or more`} jobs (give more characters):\n${jobs.map(describe).join('\n')}${more}`,
  );
}
