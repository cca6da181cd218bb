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
import { type BackoffPolicy, planStart, type StartJobDeps, startJob } from '../../shared/jobs/start-job.ts';
import type { Logger } from '../../shared/logging/index.ts';
import { listManagedJobs, type ProviderJob, type TuningProvider } from '../../shared/providers/index.ts';
import type { Lease } from './lease.ts';
import { logs } from './logs.ts';
import { type ReconcileOptions, reconcile } from './reconcile.ts';

export interface PollConfig {
  project: string;
  /** Jobs allowed at the provider at once: PENDING + RUNNING + CANCELLING (+ creates in flight). */
  maxConcurrentJobs: number;
  /** A job whose state has not changed for this long gets one `job.stalled`. */
  stallTimeoutMs: number;
  /** An intent without a job name older than this means the create did not happen (reconcile.ts). */
  intentGraceMs: number;
  /**
   * Subtracted from the oldest record's intent time for the provider's `create_time >=` filter:
   * our clock and the provider's may disagree a little, and reading a few old jobs costs nothing.
   */
  createTimeMarginMs: number;
  /** Provider list page size; the provider's maximum by default. */
  pageSize?: number;
  /** Records reconciled in parallel. */
  concurrency: number;
}

export const defaultPollSettings = {
  intentGraceMs: 10 * 60_000,
  createTimeMarginMs: 15 * 60_000,
  concurrency: 16,
  /** The deployed function's timeout, and so the run lease's ttl (see lease.ts). */
  leaseMs: 5 * 60_000,
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
  /** Provider API calls this run made (list pages, creates, look-ups). */
  vertexCalls: number;
  /** Steps that failed (provider list, a record's transaction, a start, a flush); retried next run. */
  errors: number;
}

export type PollResult = PollSummary | { skipped: string };

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

/**
 * Every provider job tunedrop manages that was created since the oldest tracked record's intent,
 * grouped by record id: one list call per page, whatever the number of records. Stops paging as
 * soon as every tracked record has found its job.
 */
async function listTracked(
  provider: TuningProvider,
  tracked: readonly JobRecord[],
  config: PollConfig,
): Promise<Map<string, ProviderJob[]>> {
  const found = new Map<string, ProviderJob[]>();
  if (tracked.length === 0) return found;
  const byId = new Map(tracked.map((job) => [job.id, job]));
  const oldest = Math.min(
    ...tracked.map((job) => Date.parse(job.provider.createIntentTime ?? job.createTime)),
  );
  const createdAfter = new Date(oldest - config.createTimeMarginMs).toISOString();
  const satisfied = new Set<string>();
  let pageToken: string | undefined;
  do {
    const page = await listManagedJobs(provider, {
      createdAfter,
      ...(config.pageSize ? { pageSize: config.pageSize } : {}),
      ...(pageToken ? { pageToken } : {}),
    });
    for (const providerJob of page.jobs) {
      const recordId = providerJob.labels[jobIdLabel];
      const record = recordId === undefined ? undefined : byId.get(recordId);
      if (!record || recordId === undefined) continue;
      found.set(recordId, [...(found.get(recordId) ?? []), providerJob]);
      if (!record.provider.jobName || record.provider.jobName === providerJob.name) satisfied.add(recordId);
    }
    pageToken = page.nextPageToken;
  } while (pageToken && satisfied.size < byId.size);
  return found;
}

export async function pollJobs(deps: PollDeps): Promise<PollResult> {
  if (!(await deps.lease.acquire())) {
    logs.runSkipped(deps.logger);
    return { skipped: 'another run holds the lease' };
  }
  try {
    return await run(deps);
  } finally {
    // A failed release only delays the next run until the lease expires.
    await deps.lease
      .release()
      .catch((error: unknown) => deps.logger.warn('releasing the poll lease failed', { error }));
  }
}

/** Starts due QUEUED jobs (and interrupted starts), oldest first, while capacity allows. */
async function startQueued(
  deps: PollDeps,
  provider: TuningProvider,
  records: readonly JobRecord[],
  summary: PollSummary,
): Promise<void> {
  const { config, store, publisher, logger, clock } = deps;
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
  const startDeps: StartJobDeps = {
    store,
    provider,
    publisher,
    logger,
    now: clock,
    project: config.project,
    intentTimeoutMs: config.intentGraceMs,
    ...(deps.backoff ? { backoff: deps.backoff } : {}),
  };
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
    observed = await listTracked(counter.provider, tracked, config);
  } catch (error) {
    summary.errors++;
    logs.listFailed(logger, error, counter.calls());
  }

  // 2. Reconcile every active record: state, progress, adoption, expired intents, stalls.
  const options: ReconcileOptions = {
    now: clock(),
    project: config.project,
    stallTimeoutMs: config.stallTimeoutMs,
    // Without a list, "no provider job found" proves nothing: never expire an intent then.
    intentGraceMs: observed ? config.intentGraceMs : Number.POSITIVE_INFINITY,
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
      if (outcome.adopted) logs.jobAdopted(logger, committed.id, outcome.adopted);
      if (outcome.intentExpired) logs.intentExpired(logger, committed.id, listed.provider.createIntentTime);
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
    summary.errors += flushed.failedJobs;
  } catch (error) {
    summary.errors++;
    logger.error('listing records with pending events failed', { error });
  }

  summary.vertexCalls = counter.calls();
  logs.runFinished(logger, summary, clock().getTime() - startTime.getTime());
  return summary;
}
