/**
 * One record, one billed provider job. Vertex AI's create has no request id, so a create that
 * answered 503 after making the job, followed by a label lookup that does not list it yet, can
 * lead to a second create. Every lookup therefore reads ALL jobs carrying the record's label:
 * the oldest is the record's job, every other one is a duplicate to cancel and report.
 */
import { PermanentError } from '../errors/index.ts';
import type { Logger } from '../logging/index.ts';
import type { FindJobOptions, ProviderJob, TuningProvider } from '../providers/types.ts';
import { jobIdLabel } from './model.ts';
import type { JobStore } from './store-types.ts';

/** Every provider job labelled with the record id (all pages), oldest first. */
export async function findProviderJobs(
  provider: TuningProvider,
  recordId: string,
  options: FindJobOptions = {},
): Promise<ProviderJob[]> {
  // A provider with a lookup of its own (Vertex: label filter, else a bounded scan of the list).
  if (provider.findJobsByRecordId) {
    const jobs = await provider.findJobsByRecordId(recordId, options);
    return oldestFirst(jobs.filter((job) => job.labels[jobIdLabel] === recordId));
  }
  const found: ProviderJob[] = [];
  let pageToken: string | undefined;
  do {
    const page = await provider.listJobs({
      labels: { [jobIdLabel]: recordId },
      ...(pageToken ? { pageToken } : {}),
    });
    // Checked again here: a provider whose list ignored the filter must never make startJob
    // adopt, or cancel, another record's job.
    found.push(...page.jobs.filter((job) => job.labels[jobIdLabel] === recordId));
    pageToken = page.nextPageToken;
  } while (pageToken);
  return oldestFirst(found);
}

/**
 * Oldest first by create time; the provider's name breaks ties (Vertex AI's ids grow), and a job
 * without a create time sorts last, so a known-older job is never the one cancelled.
 */
export function oldestFirst(jobs: readonly ProviderJob[]): ProviderJob[] {
  const unique = [...new Map(jobs.map((job) => [job.name, job])).values()];
  return unique.sort((a, b) => {
    if (a.createTime && b.createTime && a.createTime !== b.createTime) {
      return a.createTime < b.createTime ? -1 : 1;
    }
    if (!a.createTime !== !b.createTime) return a.createTime ? -1 : 1;
    return a.name.length - b.name.length || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  });
}

export interface CancelledDuplicate {
  name: string;
  /** False when the cancel call failed: someone must cancel it by hand. */
  cancelled: boolean;
  error?: string;
}

/** Cancels each duplicate; a failed cancel is reported, never thrown (the start itself succeeded). */
export async function cancelDuplicates(
  provider: TuningProvider,
  duplicates: readonly ProviderJob[],
): Promise<CancelledDuplicate[]> {
  const results: CancelledDuplicate[] = [];
  for (const duplicate of duplicates) {
    try {
      await provider.cancelJob(duplicate.name);
      results.push({ name: duplicate.name, cancelled: true });
    } catch (error) {
      results.push({
        name: duplicate.name,
        cancelled: false,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return results;
}

/** The history line of a record whose duplicates were cancelled (or could not be). */
export function duplicateHistoryReason(kept: string, result: CancelledDuplicate): string {
  return result.cancelled
    ? `cancelled duplicate provider job ${result.name} made by a retried start; kept the oldest, ${kept}`
    : `duplicate provider job ${result.name} (kept the oldest, ${kept}) could not be cancelled: ${result.error}; cancel it by hand`;
}

/**
 * Cancels the duplicates of the record's job `kept`, logs each at ERROR (money was spent) and
 * adds a history line per duplicate to the record. A record gone meanwhile stops the start.
 */
export async function settleDuplicates(
  deps: { provider: TuningProvider; store: JobStore; logger: Logger; now: () => Date },
  jobId: string,
  kept: string,
  duplicates: readonly ProviderJob[],
): Promise<void> {
  const results = await cancelDuplicates(deps.provider, duplicates);
  for (const result of results) {
    deps.logger.error(
      result.cancelled
        ? 'cancelled a duplicate provider job of one record'
        : 'could not cancel a duplicate provider job; cancel it by hand',
      { jobId, kept, duplicate: result.name, ...(result.error ? { error: result.error } : {}) },
    );
  }
  const time = deps.now().toISOString();
  const updated = await deps.store.update(jobId, (job) => ({
    ...job,
    updateTime: time,
    history: [
      ...job.history,
      ...results.map((result) => ({ state: job.state, time, reason: duplicateHistoryReason(kept, result) })),
    ],
  }));
  if (!updated) {
    throw new PermanentError(`job ${jobId} was deleted while it was being started`, 'job-not-found');
  }
}
