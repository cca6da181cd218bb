/**
 * Finding the provider jobs of the records a poll run tracks, in few calls: label-filtered list
 * pages when Vertex honours the filter, and the provider's fallbacks when it does not (a
 * state-only filter, an unfiltered list, or no list at all: shared/providers/vertex/list-modes.ts).
 * Whatever the mode, a run reads a bounded number of pages and fetches a bounded number of jobs
 * by name; what it could not reach is left for the next run.
 */
import type { JobRecord } from '../../shared/jobs/index.ts';
import { jobIdLabel } from '../../shared/jobs/index.ts';
import type { Logger } from '../../shared/logging/index.ts';
import {
  type ListScope,
  ListUnavailableError,
  listManagedJobs,
  maxListPageSize,
  ProviderError,
  type ProviderJob,
  type TuningProvider,
} from '../../shared/providers/index.ts';
import { logs } from './logs.ts';

/** The budgets and margins of one listing (PollConfig with the defaults applied). */
export interface ListSettings {
  createTimeMarginMs: number;
  pageSize?: number;
  maxListPages?: number;
  /** Pages beyond twice those the named jobs fill. */
  extraListPages: number;
  maxJobGets: number;
  maxJobGetsWithoutList: number;
}

/** What listing the tracked records' provider jobs found, and what it cost. */
export interface ListOutcome {
  /** Provider jobs carrying a tracked record's label, by record id. */
  found: Map<string, ProviderJob[]>;
  /** List pages read. */
  pages: number;
  /** Named jobs looked up one by one (found or not) because the pages read did not contain them. */
  lookedUp: number;
  /** Named jobs still not seen after the page budget and the fetch budget (left for the next run). */
  leftOver: number;
  /** Individual fetches that failed other than with "not found". */
  fetchErrors: number;
  /** Records whose named job a fetch could not reconcile (not found, or refused), with why. */
  unreconciled: Map<string, string>;
}

/**
 * The provider jobs of the tracked records: one list call per page of every job tunedrop manages,
 * whatever the number of records, grouped by record id.
 *
 * Only records with a recorded job name decide when to stop: paging ends as soon as each of them
 * has found its job. A record with an intent and no name may have no job at all (startJob settles
 * it with its own label look-up), so waiting for it would page through every managed job ever
 * created; it is matched if its job happens to be in the pages read. Paging also stops at a page
 * whose jobs were all created before the oldest tracked record's intent (less a clock-skew margin):
 * lists come newest first in practice, so what follows is history. And it stops after a page
 * budget that grows with the named records, not with history. Nothing relies on the order for
 * correctness: a named job the pages read did not contain (a deleted job, an unusual order) is
 * fetched by name, at most `maxJobGets` per run; the rest stay unchanged until a later run.
 */
export async function listTracked(
  provider: TuningProvider,
  tracked: readonly JobRecord[],
  config: ListSettings,
  logger: Logger,
  now: Date,
): Promise<ListOutcome> {
  const outcome: ListOutcome = {
    found: new Map(),
    pages: 0,
    lookedUp: 0,
    leftOver: 0,
    fetchErrors: 0,
    unreconciled: new Map(),
  };
  const named = tracked.filter((job) => job.provider.jobName !== undefined);
  if (named.length === 0) return outcome;
  const byId = new Map(tracked.map((job) => [job.id, job]));
  const oldest = Math.min(
    ...tracked.map((job) => Date.parse(job.provider.createIntentTime ?? job.createTime)),
  );
  const cutoff = oldest - config.createTimeMarginMs;
  const pageSize = config.pageSize ?? maxListPageSize;
  const maxPages = config.maxListPages ?? 2 * Math.ceil(named.length / pageSize) + config.extraListPages;
  const waiting = new Set(named.map((job) => job.id));
  const add = (recordId: string, providerJob: ProviderJob) => {
    const known = outcome.found.get(recordId) ?? [];
    if (!known.some((job) => job.name === providerJob.name))
      outcome.found.set(recordId, [...known, providerJob]);
    if (byId.get(recordId)?.provider.jobName === providerJob.name) waiting.delete(recordId);
  };

  let pageToken: string | undefined;
  let scope: ListScope | undefined;
  let historyReached = false;
  let listUnavailable = false;
  do {
    // No createdAfter sent: the Vertex list filter documents labels only (filter.ts), and the
    // creation times of old jobs are what tells this loop it has reached history. The provider
    // may fall back to a state-only or no filter (list-modes.ts); later pages keep the scope
    // of the first, whose page token they carry.
    let page: Awaited<ReturnType<typeof listManagedJobs>>;
    try {
      page = await listManagedJobs(provider, {
        pageSize,
        ...(pageToken ? { pageToken } : {}),
        ...(scope ? { scope } : {}),
      });
    } catch (error) {
      // No usable list at all: every named job is fetched by name below, within its own budget.
      if (!(error instanceof ListUnavailableError)) throw error;
      listUnavailable = true;
      break;
    }
    scope = page.scope;
    outcome.pages++;
    for (const providerJob of page.jobs) {
      const recordId = providerJob.labels[jobIdLabel];
      if (recordId !== undefined && byId.has(recordId)) add(recordId, providerJob);
    }
    // A job without a createTime cannot be proven old.
    historyReached =
      page.jobs.length > 0 &&
      page.jobs.every((job) => job.createTime !== undefined && Date.parse(job.createTime) < cutoff);
    pageToken = page.nextPageToken;
  } while (pageToken && waiting.size > 0 && !historyReached && outcome.pages < maxPages);

  if (waiting.size === 0) return outcome;
  // Oldest intent first, rotated by the run's minute so that a backlog larger than the budget
  // (say, many deleted jobs) does not starve the same records run after run.
  // A record given up on is fetched no more (it was told as job.stalled); a listing may still find it.
  const missing = named
    .filter((job) => waiting.has(job.id) && !job.recovery?.gaveUpTime)
    .sort(
      (a, b) =>
        (a.provider.createIntentTime ?? a.createTime).localeCompare(
          b.provider.createIntentTime ?? b.createTime,
        ) || a.id.localeCompare(b.id),
    );
  const offset = missing.length ? Math.floor(now.getTime() / 60_000) % missing.length : 0;
  const budget = listUnavailable ? config.maxJobGetsWithoutList : config.maxJobGets;
  const toFetch = missing.length
    ? [...missing.slice(offset), ...missing.slice(0, offset)].slice(0, budget)
    : [];
  outcome.leftOver = missing.length - toFetch.length;
  for (const job of toFetch) {
    const name = job.provider.jobName as string;
    try {
      const providerJob = await provider.getJob(name);
      outcome.lookedUp++;
      // The name was recorded for this record; the label is checked anyway.
      if (providerJob.labels[jobIdLabel] === job.id) add(job.id, providerJob);
      else outcome.unreconciled.set(job.id, `provider job ${name} does not carry this record's label`);
    } catch (error) {
      if (error instanceof ProviderError && error.httpStatus === 404) {
        outcome.lookedUp++;
        outcome.unreconciled.set(job.id, `provider job ${name} was not found (404)`);
        continue;
      }
      outcome.fetchErrors++;
      // Refused (403, 400...): counted. Transient (5xx, network): the next run asks again, and a
      // long outage shows as a time stall; counting it would give up on healthy jobs.
      if (error instanceof ProviderError && !error.transient)
        outcome.unreconciled.set(job.id, `fetching provider job ${name} failed: ${error.message}`);
      logs.jobFetchFailed(logger, job.id, name, error);
    }
  }
  logs.namedJobsFetched(logger, {
    listMode: scope ?? (listUnavailable ? 'per-job' : 'labels'),
    pages: outcome.pages,
    missing: missing.length,
    lookedUp: outcome.lookedUp,
    leftOver: outcome.leftOver,
  });
  return outcome;
}
