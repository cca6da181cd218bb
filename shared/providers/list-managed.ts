/**
 * How the poller refreshes thousands of jobs with few calls: one list call per page of every job
 * tunedrop manages (its label), instead of one get per job. Provider-neutral: a provider that
 * cannot filter by label falls back on its own (Vertex: list-modes.ts) and says so in `scope`.
 */
import type { JobPage, ListScope, TuningProvider } from './types.ts';
import { managedLabel, maxListPageSize } from './vertex/client.ts';

export interface ListManagedJobsOptions {
  /** Only jobs created at or after this RFC 3339 time (e.g. the oldest non-terminal record). */
  createdAfter?: string;
  /** Defaults to the largest page size the provider accepts. */
  pageSize?: number;
  pageToken?: string;
  /** The scope the listing's first page came with (JobPage.scope), for its later pages. */
  scope?: ListScope;
}

/** One page of tunedrop-managed jobs; follow `nextPageToken` for the rest. */
export function listManagedJobs(
  provider: TuningProvider,
  options: ListManagedJobsOptions = {},
): Promise<JobPage> {
  return provider.listJobs({
    labels: { [managedLabel]: 'true' },
    pageSize: options.pageSize ?? maxListPageSize,
    ...(options.createdAfter ? { createdAfter: options.createdAfter } : {}),
    ...(options.pageToken ? { pageToken: options.pageToken } : {}),
    ...(options.scope ? { scope: options.scope } : {}),
  });
}
