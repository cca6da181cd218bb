/**
 * One poll run, platform-neutral (no Functions Framework here): refresh every non-terminal job
 * from one paged, label-filtered list of provider jobs, apply each change in a Firestore
 * transaction with its outbox event, notify stalls once, start queued jobs while capacity allows,
 * publish after each commit and flush whatever is still pending at the end.
 *
 * Two overlapping runs do not double-publish: a state change is a transaction whose mutate
 * re-reads the record (the second run sees the new state and changes nothing), event ids are
 * derived from job id + type, each record's outbox has its own flush lease, and the run as a whole
 * takes a short lease (lease.ts) so a second run exits early instead of repeating the work.
 */

import type { EventPublisher } from '../../shared/events/index.ts';
import { flushAllPending, hasPendingEvents, publishPending } from '../../shared/events/index.ts';
import {
  isTerminal,
  type JobRecord,
  type JobState,
  type JobStore,
  jobIdLabel,
} from '../../shared/jobs/index.ts';
import {
  type BackoffPolicy,
  planStart,
  type StartJobDeps,
  startDepsFrom,
  startJob,
} from '../../shared/jobs/start-job.ts';
import type { Logger } from '../../shared/logging/index.ts';
import {
  listManagedJobs,
  maxListPageSize,
  ProviderError,
  type ProviderJob,
  type TuningProvider,
} from '../../shared/providers/index.ts';
import type { Lease } from './lease.ts';
import { logs } from './logs.ts';
import { type ReconcileOptions, reconcile } from './reconcile.ts';

export interface PollConfig {
  project: string;
  /** Jobs allowed at the provider at once: PENDING + RUNNING + CANCELLING (+ creates in flight). */
  maxConcurrentJobs: number;
  /** A job whose state has not changed for this long gets one `job.stalled`. */
  stallTimeoutMs: number;
  /** A DRAFT not approved within this long becomes EXPIRED (`job.expired`); 7 days by default. */
  draftTtlMs?: number;
  /**
   * How long an intent without a job name counts as a create call in flight (startJob's
   * `intentTimeoutMs`): a start is neither retried nor recovered before it has passed.
   */
  intentGraceMs: number;
  /**
   * Subtracted from the oldest tracked record's intent time before a list page whose jobs were
   * all created earlier ends the paging: our clock and the provider's may disagree a little.
   */
  createTimeMarginMs: number;
  /** Provider list page size; the provider's maximum by default. */
  pageSize?: number;
  /** List pages one run reads at most; by default twice the pages the named jobs fill, plus a few. */
  maxListPages?: number;
  /** Named jobs missing from the pages read that one run fetches by name at most. */
  maxJobGets?: number;
  /** Records reconciled in parallel. */
  concurrency: number;
}

export const defaultPollSettings = {
  intentGraceMs: 10 * 60_000,
  createTimeMarginMs: 15 * 60_000,
  concurrency: 16,
  /** Pages beyond twice those the named jobs fill (jobs started and finished since the oldest). */
  extraListPages: 5,
  maxJobGets: 20,
  /** The deployed function's timeout, and so the run lease's ttl (see lease.ts). */
  leaseMs: 5 * 60_000,
  /** TUNEDROP_DRAFT_TTL_HOURS' default. */
  draftTtlMs: 7 * 24 * 3_600_000,
} as const;

export interface PollDeps {
  config: PollConfig;
  store: JobStore;
  provider: TuningProvider;
  publisher: EventPublisher;
  logger: Logger;
  clock: () => Date;
  lease: Lease;
  /** shared/jobs startJob by default; the poller passes it a provider that counts calls. */
  startJob?: (deps: StartJobDeps, jobId: string) => Promise<JobRecord>;
  /** Backoff after a 429/5xx from create (startJob's default otherwise). */
  backoff?: BackoffPolicy;
}

export interface PollSummary {
  /** Active records compared with their provider job this run. */
  refreshed: number;
  /** State changes committed. */
  transitions: number;
  /** Queued jobs started. */
  started: number;
  /** `job.stalled` events appended. */
  stalled: number;
  /** Events Pub/Sub accepted this run. */
  published: number;
  /** Events still unpublished at the end of the run (retried next run, same ids). */
  pending: number;
  /** Events another flusher held the outbox lease of (it publishes them; not a failure). */
  leased: number;
  /** Provider API calls this run made (list pages, job fetches, creates, look-ups). */
  vertexCalls: number;
  /** Steps that failed (provider list, a record's transaction, a start, a flush); retried next run. */
  errors: number;
}

export type PollResult = PollSummary | { skipped: string };

/** What a run that finds the lease taken answers, at once: another run is doing the work. */
export const pollInProgress = 'poll in progress: another run holds the lease';

const busyStates: readonly JobState[] = ['PENDING', 'RUNNING', 'CANCELLING'];

/** Wraps a provider to count its calls: the run reports how many it made. */
export function countingProvider(provider: TuningProvider): {
  provider: TuningProvider;
  calls: () => number;
} {
  let calls = 0;
  const counted =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      calls++;
      return fn(...args);
    };
  return {
    provider: {
      name: provider.name,
      createJob: counted(provider.createJob.bind(provider)),
      getJob: counted(provider.getJob.bind(provider)),
      listJobs: counted(provider.listJobs.bind(provider)),
      findJobByRecordId: counted(provider.findJobByRecordId.bind(provider)),
      cancelJob: counted(provider.cancelJob.bind(provider)),
    },
    calls: () => calls,
  };
}

async function forEachLimit<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/**
 * The provider job a record tracks among those carrying its label: the one it recorded, else
 * (adoption) the oldest. A record never switches to another job than the one it recorded.
 */
function pick(job: JobRecord, candidates: readonly ProviderJob[] | undefined): ProviderJob | undefined {
  if (!candidates?.length) return undefined;
  if (job.provider.jobName) return candidates.find((candidate) => candidate.name === job.provider.jobName);
  return [...candidates].sort((a, b) => (a.createTime ?? '').localeCompare(b.createTime ?? ''))[0];
}

/** What listing the tracked records' provider jobs found, and what it cost. */
interface ListOutcome {
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
async function listTracked(
  provider: TuningProvider,
  tracked: readonly JobRecord[],
  config: PollConfig,
  logger: Logger,
  now: Date,
): Promise<ListOutcome> {
  const outcome: ListOutcome = { found: new Map(), pages: 0, lookedUp: 0, leftOver: 0, fetchErrors: 0 };
  const named = tracked.filter((job) => job.provider.jobName !== undefined);
  if (named.length === 0) return outcome;
  const byId = new Map(tracked.map((job) => [job.id, job]));
  const oldest = Math.min(
    ...tracked.map((job) => Date.parse(job.provider.createIntentTime ?? job.createTime)),
  );
  const cutoff = oldest - config.createTimeMarginMs;
  const pageSize = config.pageSize ?? maxListPageSize;
  const maxPages =
    config.maxListPages ?? 2 * Math.ceil(named.length / pageSize) + defaultPollSettings.extraListPages;
  const waiting = new Set(named.map((job) => job.id));
  const add = (recordId: string, providerJob: ProviderJob) => {
    const known = outcome.found.get(recordId) ?? [];
    if (!known.some((job) => job.name === providerJob.name))
      outcome.found.set(recordId, [...known, providerJob]);
    if (byId.get(recordId)?.provider.jobName === providerJob.name) waiting.delete(recordId);
  };

  let pageToken: string | undefined;
  let historyReached = false;
  do {
    // No createdAfter sent: the Vertex list filter documents labels only (filter.ts), and the
    // creation times of old jobs are what tells this loop it has reached history.
    const page = await listManagedJobs(provider, { pageSize, ...(pageToken ? { pageToken } : {}) });
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
  const missing = named
    .filter((job) => waiting.has(job.id))
    .sort(
      (a, b) =>
        (a.provider.createIntentTime ?? a.createTime).localeCompare(
          b.provider.createIntentTime ?? b.createTime,
        ) || a.id.localeCompare(b.id),
    );
  const offset = Math.floor(now.getTime() / 60_000) % missing.length;
  const toFetch = [...missing.slice(offset), ...missing.slice(0, offset)].slice(
    0,
    config.maxJobGets ?? defaultPollSettings.maxJobGets,
  );
  outcome.leftOver = missing.length - toFetch.length;
  for (const job of toFetch) {
    const name = job.provider.jobName as string;
    try {
      const providerJob = await provider.getJob(name);
      outcome.lookedUp++;
      // The name was recorded for this record; the label is checked anyway.
      if (providerJob.labels[jobIdLabel] === job.id) add(job.id, providerJob);
    } catch (error) {
      if (error instanceof ProviderError && error.httpStatus === 404) {
        outcome.lookedUp++;
        continue;
      }
      outcome.fetchErrors++;
      logs.jobFetchFailed(logger, job.id, name, error);
    }
  }
  logs.namedJobsFetched(logger, {
    pages: outcome.pages,
    missing: missing.length,
    lookedUp: outcome.lookedUp,
    leftOver: outcome.leftOver,
  });
  return outcome;
}

export async function pollJobs(deps: PollDeps): Promise<PollResult> {
  if (!(await deps.lease.acquire())) {
    logs.runSkipped(deps.logger);
    return { skipped: pollInProgress };
  }
  try {
    return await run(deps);
  } finally {
    // A failed release only delays the next run until the lease expires.
    await deps.lease.release().catch((error: unknown) => logs.leaseReleaseFailed(deps.logger, error));
  }
}

/** Starts due QUEUED jobs (and interrupted starts), oldest first, while capacity allows. */
async function startQueued(
  deps: PollDeps,
  provider: TuningProvider,
  records: readonly JobRecord[],
  summary: PollSummary,
): Promise<void> {
  const { config, logger, clock } = deps;
  const now = clock();
  const plans = new Map(records.map((job) => [job.id, planStart(job, now, config.intentGraceMs)]));
  // A create in flight elsewhere (an open intent within the grace period) will occupy a slot too.
  const busy = records.filter((job) => {
    const plan = plans.get(job.id);
    return busyStates.includes(job.state) || (plan?.action === 'recover' && plan.inFlight);
  }).length;
  let capacity = config.maxConcurrentJobs - busy;
  // startJob decides what "startable" means (QUEUED or approved DRAFT, due, no create in flight);
  // an interrupted earlier attempt ('recover') is looked up by label before anything is created.
  const ready = records
    .filter((job) => {
      const plan = plans.get(job.id);
      return plan?.action === 'claim' || (plan?.action === 'recover' && !plan.inFlight);
    })
    .sort((a, b) => a.createTime.localeCompare(b.createTime) || a.id.localeCompare(b.id));
  if (ready.length > 0 && capacity <= 0)
    logs.capacityFull(logger, ready.length, busy, config.maxConcurrentJobs);
  const start = deps.startJob ?? startJob;
  const startDeps: StartJobDeps = startDepsFrom({ ...deps, provider });
  for (const job of ready) {
    if (capacity <= 0) break;
    try {
      const after = await start(startDeps, job.id);
      if (busyStates.includes(after.state)) {
        summary.started++;
        capacity--;
      } else if (after.attempts > job.attempts && !after.provider.jobName && !isTerminal(after.state)) {
        // An attempt was made and refused (429/5xx): the provider is throttling, and the
        // others would only be refused too. They keep their place for the next run.
        logs.startDeferred(logger, job.id, after.nextAttemptTime);
        break;
      }
    } catch (error) {
      summary.errors++;
      logs.startFailed(logger, job.id, error);
      break;
    }
  }
}

async function run(deps: PollDeps): Promise<PollSummary> {
  const { config, store, publisher, logger, clock } = deps;
  const startTime = clock();
  const counter = countingProvider(deps.provider);
  const summary: PollSummary = {
    refreshed: 0,
    transitions: 0,
    started: 0,
    stalled: 0,
    published: 0,
    pending: 0,
    leased: 0,
    vertexCalls: 0,
    errors: 0,
  };

  const publishNow = async (jobId: string) => {
    try {
      const outcome = await publishPending(store, publisher, jobId, logger, { now: clock });
      summary.published += outcome.published;
    } catch (error) {
      // Firestore failed around the publish: the entry stays pending for the flush below.
      logger.warn('publishing right after the commit failed; left to the flush', { jobId, error });
    }
  };

  const active = await store.listActive();
  const latest = new Map(active.map((job) => [job.id, job]));

  // 1. What the provider says, in as few calls as possible.
  const tracked = active.filter(
    (job) => job.provider.jobName !== undefined || job.provider.createIntentTime !== undefined,
  );
  let observed: Map<string, ProviderJob[]> | undefined;
  try {
    const listed = await listTracked(counter.provider, tracked, config, logger, clock());
    observed = listed.found;
    summary.errors += listed.fetchErrors;
  } catch (error) {
    summary.errors++;
    logs.listFailed(logger, error, counter.calls());
  }

  // 2. Reconcile every active record: state, progress, adoption, stalls.
  const options: ReconcileOptions = {
    now: clock(),
    project: config.project,
    stallTimeoutMs: config.stallTimeoutMs,
    draftTtlMs: config.draftTtlMs ?? defaultPollSettings.draftTtlMs,
  };
  await forEachLimit(active, config.concurrency, async (listed) => {
    const candidates = observed?.get(listed.id);
    if ((candidates?.length ?? 0) > 1) {
      logs.duplicateProviderJobs(
        logger,
        listed.id,
        (candidates ?? []).map((job) => job.name),
      );
    }
    const match = pick(listed, candidates);
    if (match) summary.refreshed++;
    else if (observed && listed.provider.jobName)
      logs.providerJobMissing(logger, listed.id, listed.provider.jobName);
    // Most records do not change in most runs: decide on the listed copy, skip the transaction.
    if (!reconcile(listed, match, options).job) return;
    try {
      let outcome: ReturnType<typeof reconcile> | undefined;
      const committed = await store.update(listed.id, (current) => {
        outcome = reconcile(current, pick(current, candidates), options);
        return outcome.job;
      });
      if (!committed) return;
      latest.set(committed.id, committed);
      if (!outcome?.job) return;
      if (outcome.from !== outcome.to) {
        summary.transitions++;
        logs.jobTransitioned(logger, committed.id, outcome.from, outcome.to, committed.provider.state);
      }
      if (outcome.expired) logs.draftExpired(logger, committed.id, outcome.expired);
      if (outcome.adopted) logs.jobAdopted(logger, committed.id, outcome.adopted);
      if (outcome.illegal) logs.illegalReport(logger, committed.id, outcome.from, outcome.illegal);
      if (outcome.stalled) {
        summary.stalled++;
        logs.jobStalled(logger, committed.id, committed.state, committed.stateTime);
      }
      if (hasPendingEvents(committed)) await publishNow(committed.id);
    } catch (error) {
      summary.errors++;
      logs.jobUpdateFailed(logger, listed.id, error);
    }
  });

  // 3. Start queued jobs whose backoff has passed, oldest first, while capacity allows. Not when
  // the list failed: the provider is unwell, and a create would most likely fail the same way.
  if (observed) await startQueued(deps, counter.provider, [...latest.values()], summary);

  // 4. Anything still unpublished, from this run or an earlier writer, goes out with its own id.
  try {
    const flushed = await flushAllPending(store, publisher, logger, { now: clock });
    summary.published += flushed.published;
    summary.pending = flushed.pending;
    summary.leased = flushed.leased;
    summary.errors += flushed.failedJobs;
  } catch (error) {
    summary.errors++;
    logger.error('listing records with pending events failed', { error });
  }

  summary.vertexCalls = counter.calls();
  logs.runFinished(logger, summary, clock().getTime() - startTime.getTime());
  return summary;
}
