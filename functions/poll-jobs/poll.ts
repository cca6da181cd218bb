/**
 * One poll run, platform-neutral (no Functions Framework here): refresh every non-terminal job
 * from one paged, label-filtered list of provider jobs, apply each change in one atomic
 * write of the record with its outbox event, notify stalls once, start queued jobs while capacity allows,
 * publish after each commit and flush whatever is still pending at the end.
 *
 * Two overlapping runs do not double-publish: a state change is a compare-and-set whose mutate
 * runs on the freshly read record (the second run sees the new state and changes nothing), event ids are
 * derived from job id + type, each record's outbox has its own flush lease, and the run as a whole
 * takes a short lease (lease.ts) so a second run exits early instead of repeating the work.
 */

import { datasetOrphanGraceMs, defaultEventMaxAgeMinutes } from '../../shared/config/index.ts';
import type { EventPublisher } from '../../shared/events/index.ts';
import { flushAllPending, hasPendingEvents, publishPending } from '../../shared/events/index.ts';
import type { JobRecord, JobStore } from '../../shared/jobs/index.ts';
import type { BackoffPolicy, StartJobDeps } from '../../shared/jobs/start-job.ts';
import type { Logger } from '../../shared/logging/index.ts';
import type { ListScope, ProviderJob, TuningProvider } from '../../shared/providers/index.ts';
import { sweepDatasets } from './dataset-sweep.ts';
import type { Lease } from './lease.ts';
import { listTracked } from './list-tracked.ts';
import { logs } from './logs.ts';
import { defaultMaxRecoveryAttempts, type ReconcileOptions, reconcile } from './reconcile.ts';
import { countRecoveryFailure, startQueued } from './start-queued.ts';

export interface PollConfig {
  project: string;
  /** This deployment's identity (config deploymentId): the dataset sweep frees only what carries it. */
  deploymentId: string;
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
  /** Jobs one run fetches by name at most when the provider cannot list at all (`per-job` mode). */
  maxJobGetsWithoutList?: number;
  /** See defaultPollSettings.datasetOrphanGraceMs. */
  datasetOrphanGraceMs?: number;
  /** Failed reconciliations of a record (job gone, lookup unanswerable) before job.stalled and no more retries. */
  maxRecoveryAttempts?: number;
  /**
   * Interrupted starts one run looks up by label at most: without a label filter each lookup may
   * read up to maxLookupPages unfiltered pages, so this bounds the calls of a run.
   */
  maxRecoveryLookups?: number;
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
  maxJobGetsWithoutList: 100,
  maxRecoveryAttempts: defaultMaxRecoveryAttempts,
  maxRecoveryLookups: 5,
  /** The deployed function's timeout, and so the run lease's ttl (see lease.ts). */
  leaseMs: 5 * 60_000,
  /** TUNEDROP_DRAFT_TTL_HOURS' default. */
  draftTtlMs: 7 * 24 * 3_600_000,
  /**
   * A provider dataset with no job record is kept this long (an ingest may still be creating it):
   * the default event max age + the ingest timeout + an hour (config's datasetOrphanGraceMs).
   * The deployed poller derives it from its own TUNEDROP_EVENT_MAX_AGE_MINUTES (index.ts).
   */
  datasetOrphanGraceMs: datasetOrphanGraceMs(defaultEventMaxAgeMinutes * 60_000),
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
  /** Dataset ids whose failed delete was logged (kept per instance, so each is logged once). */
  datasetFailuresLogged?: Set<string>;
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
  /**
   * How the provider's jobs were listed at the end of the run: `labels` (label filter), `state`
   * (state-only filter, finished jobs fetched by name), `unfiltered` (every job of the location,
   * labels checked by tunedrop) or `per-job` (no usable list: jobs fetched by name, bounded).
   */
  listMode: ListScope;
  /** Records the poller gave up reconciling this run (job.stalled with the reason). */
  gaveUp: number;
  /** Steps that failed (provider list, a record's write, a start, a flush); retried next run. */
  errors: number;
  /**
   * Datasets the provider held for tunedrop (Yandex) and those deleted this run because their job
   * is over; absent where the provider keeps none. Failed deletes are retried next run, not errors.
   */
  datasets?: { held: number; deleted: number; failed: number };
}

export type PollResult = PollSummary | { skipped: string };

/** What a run that finds the lease taken answers, at once: another run is doing the work. */
export const pollInProgress = 'poll in progress: another run holds the lease';

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
      ...(provider.listScope ? { listScope: provider.listScope.bind(provider) } : {}),
      ...(provider.requestCount ? { requestCount: provider.requestCount.bind(provider) } : {}),
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
    listMode: deps.provider.listScope?.() ?? 'labels',
    gaveUp: 0,
    errors: 0,
  };
  const requestsBefore = deps.provider.requestCount?.();

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
  let unreconciled = new Map<string, string>();
  try {
    const listed = await listTracked(
      counter.provider,
      tracked,
      {
        createTimeMarginMs: config.createTimeMarginMs,
        ...(config.pageSize !== undefined ? { pageSize: config.pageSize } : {}),
        ...(config.maxListPages !== undefined ? { maxListPages: config.maxListPages } : {}),
        extraListPages: defaultPollSettings.extraListPages,
        maxJobGets: config.maxJobGets ?? defaultPollSettings.maxJobGets,
        maxJobGetsWithoutList: config.maxJobGetsWithoutList ?? defaultPollSettings.maxJobGetsWithoutList,
      },
      logger,
      clock(),
    );
    observed = listed.found;
    unreconciled = listed.unreconciled;
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
    // Most records do not change in most runs: decide on the listed copy, skip the write.
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

  // 2b. Records whose named job could not be reconciled: counted, and given up on at the limit.
  for (const [jobId, reason] of unreconciled) {
    await countRecoveryFailure(deps, jobId, reason, options, summary, latest, publishNow);
  }

  // 3. Start queued jobs whose backoff has passed, oldest first, while capacity allows. Not when
  // the list failed: the provider is unwell, and a create would most likely fail the same way.
  if (observed)
    await startQueued(deps, counter.provider, [...latest.values()], summary, async (jobId, reason) => {
      await countRecoveryFailure(deps, jobId, reason, options, summary, latest, publishNow);
    });

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

  // 5. Datasets the provider holds for jobs that are over (after the events: never delays them).
  const swept = await sweepDatasets({
    provider: deps.provider,
    store,
    logger,
    clock,
    deploymentId: config.deploymentId,
    orphanGraceMs: config.datasetOrphanGraceMs ?? defaultPollSettings.datasetOrphanGraceMs,
    failuresLogged: deps.datasetFailuresLogged ?? new Set(),
  });
  if (swept) summary.datasets = swept;

  // HTTP requests where the provider counts them (a fallback or a lookup may take several per call).
  const requestsAfter = deps.provider.requestCount?.();
  summary.vertexCalls =
    requestsBefore !== undefined && requestsAfter !== undefined
      ? requestsAfter - requestsBefore
      : counter.calls();
  summary.listMode = deps.provider.listScope?.() ?? 'labels';
  logs.runFinished(logger, summary, clock().getTime() - startTime.getTime());
  return summary;
}
