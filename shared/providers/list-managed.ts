/**
 * How the poller refreshes thousands of jobs with few calls: one list call per page of every job
 * tunedrop manages (its label), instead of one get per job. Provider-neutral: any TuningProvider
 * that honours the label filter works.
 */
import type { JobPage, TuningProvider } from './types.ts';
import { managedLabel, maxListPageSize } from './vertex/client.ts';

export interface ListManagedJobsOptions {
  /** Only jobs created at or after this RFC 3339 time (e.g. the oldest non-terminal record). */
  createdAfter?: string;
  /** Defaults to the largest page size the provider accepts. */
  pageSize?: number;
  pageToken?: string;
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
  });
}
