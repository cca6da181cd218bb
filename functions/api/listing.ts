/**
 * Listing uploads: jobs and rejected uploads (state REJECTED) in one newest-first list. Both stores
 * order by (createTime, id) descending and share one page-token format, the cursor of the last
 * item shown, so a page is the first `limit` items of both lists after that cursor, merged; there is
 * a next page when either store had more than what was shown.
 */
import {
  encodeToken,
  type JobRecord,
  type JobState,
  publicView,
  type RejectionRecord,
  rejectedState,
  rejectionView,
} from '../../shared/jobs/index.ts';
import type { ApiDeps } from './deps.ts';

export type ListedState = JobState | typeof rejectedState;

export interface ListUploadsQuery {
  /** Empty: every job and every rejection. */
  states: ListedState[];
  labels: Record<string, string>;
  pageSize?: number;
  pageToken?: string;
}

type Item = { kind: 'job'; job: JobRecord } | { kind: 'rejection'; rejection: RejectionRecord };

const keyOf = (item: Item): [string, string] =>
  item.kind === 'job' ? [item.job.createTime, item.job.id] : [item.rejection.createTime, item.rejection.id];

/** Newest first; the id breaks ties, descending, as both stores order them. */
function newerFirst(a: Item, b: Item): number {
  const [timeA, idA] = keyOf(a);
  const [timeB, idB] = keyOf(b);
  if (timeA !== timeB) return timeA < timeB ? 1 : -1;
  return idA < idB ? 1 : idA > idB ? -1 : 0;
}

export async function listUploads(deps: ApiDeps, query: ListUploadsQuery) {
  const limit = query.pageSize ?? 50;
  const jobStates = query.states.filter((state): state is JobState => state !== rejectedState);
  const wantJobs = query.states.length === 0 || jobStates.length > 0;
  // Rejections carry no labels: a label filter matches none of them.
  const wantRejections =
    (query.states.length === 0 || query.states.includes(rejectedState)) &&
    Object.keys(query.labels).length === 0;

  const [jobs, rejections] = await Promise.all([
    wantJobs
      ? deps.store.list({
          states: jobStates.length > 0 ? jobStates : undefined,
          labels: Object.keys(query.labels).length > 0 ? query.labels : undefined,
          limit,
          pageToken: query.pageToken,
        })
      : undefined,
    wantRejections ? deps.rejections.list({ limit, pageToken: query.pageToken }) : undefined,
  ]);
  const items: Item[] = [
    ...(jobs?.jobs ?? []).map((job): Item => ({ kind: 'job', job })),
    ...(rejections?.rejections ?? []).map((rejection): Item => ({ kind: 'rejection', rejection })),
  ].sort(newerFirst);
  const shown = items.slice(0, limit);
  const more =
    items.length > limit || jobs?.nextPageToken !== undefined || rejections?.nextPageToken !== undefined;
  const last = shown.at(-1);
  return {
    jobs: shown.map((item) => (item.kind === 'job' ? publicView(item.job) : rejectionView(item.rejection))),
    nextPageToken: more && last ? encodeToken(keyOf(last)) : undefined,
  };
}
