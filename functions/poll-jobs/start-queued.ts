/**
 * The poller's start of queued work: due QUEUED jobs and interrupted starts, oldest first, while
 * capacity allows (startJob does each start), and the count of failed recoveries that ends in
 * job.stalled.
 */
import { hasPendingEvents } from '../../shared/events/index.ts';
import { isTerminal, type JobRecord, type JobState } from '../../shared/jobs/index.ts';
import { planStart, type StartJobDeps, startDepsFrom, startJob } from '../../shared/jobs/start-job.ts';
import type { TuningProvider } from '../../shared/providers/index.ts';
import { logs } from './logs.ts';
import { defaultPollSettings, type PollDeps, type PollSummary } from './poll.ts';
import { noteRecoveryFailure, type ReconcileOptions } from './reconcile.ts';

const busyStates: readonly JobState[] = ['PENDING', 'RUNNING', 'CANCELLING'];

/** Counts a failed reconciliation of one record; at the limit, job.stalled with the reason. */
export async function countRecoveryFailure(
  deps: PollDeps,
  jobId: string,
  reason: string,
  options: ReconcileOptions,
  summary: PollSummary,
  latest: Map<string, JobRecord>,
  publishNow: (jobId: string) => Promise<void>,
): Promise<void> {
  const max = deps.config.maxRecoveryAttempts ?? defaultPollSettings.maxRecoveryAttempts;
  try {
    let gaveUp = false;
    const committed = await deps.store.update(jobId, (current) => {
      const outcome = noteRecoveryFailure(current, reason, max, options);
      gaveUp = outcome.gaveUp;
      return outcome.job;
    });
    if (!committed?.recovery) return;
    latest.set(committed.id, committed);
    if (gaveUp) {
      summary.gaveUp++;
      if (committed.stalledNotified) summary.stalled++;
      logs.recoveryGaveUp(deps.logger, jobId, committed.recovery.attempts, reason);
    } else {
      logs.recoveryFailed(deps.logger, jobId, committed.recovery.attempts, reason);
    }
    if (hasPendingEvents(committed)) await publishNow(committed.id);
  } catch (error) {
    summary.errors++;
    logs.jobUpdateFailed(deps.logger, jobId, error);
  }
}

/** Error codes of a start attempt that a later run may well get past: not counted as failed recovery. */
const transientCodes = new Set([
  'UNAVAILABLE',
  'INTERNAL',
  'DEADLINE_EXCEEDED',
  'RESOURCE_EXHAUSTED',
  'ABORTED',
]);

/** Starts due QUEUED jobs (and interrupted starts), oldest first, while capacity allows. */
export async function startQueued(
  deps: PollDeps,
  provider: TuningProvider,
  records: readonly JobRecord[],
  summary: PollSummary,
  recoveryFailed: (jobId: string, reason: string) => Promise<void>,
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
  // A record given up on (its interrupted start could not be looked up) is not retried.
  const ready = records
    .filter((job) => {
      const plan = plans.get(job.id);
      if (job.recovery?.gaveUpTime) return false;
      return plan?.action === 'claim' || (plan?.action === 'recover' && !plan.inFlight);
    })
    .sort((a, b) => a.createTime.localeCompare(b.createTime) || a.id.localeCompare(b.id));
  if (ready.length > 0 && capacity <= 0)
    logs.capacityFull(logger, ready.length, busy, config.maxConcurrentJobs);
  const start = deps.startJob ?? startJob;
  const startDeps: StartJobDeps = startDepsFrom({ ...deps, provider });
  const maxLookups = config.maxRecoveryLookups ?? defaultPollSettings.maxRecoveryLookups;
  let lookups = 0;
  for (const job of ready) {
    if (capacity <= 0) break;
    // The rest keep their place for the next run.
    if (plans.get(job.id)?.action === 'recover' && lookups++ >= maxLookups) continue;
    try {
      const after = await start(startDeps, job.id);
      // An interrupted start whose label lookup could not be answered (no usable list, or an
      // unfiltered scan that could not prove absence): nothing was created, and retrying forever
      // is not an answer. Counted; at the limit the job is reported stalled and left alone.
      const lookupFailed =
        plans.get(job.id)?.action === 'recover' &&
        after.attempts === job.attempts &&
        !after.provider.jobName &&
        after.provider.createIntentTime === job.provider.createIntentTime &&
        !isTerminal(after.state) &&
        after.error !== undefined &&
        !transientCodes.has(String(after.error.code));
      if (lookupFailed)
        await recoveryFailed(job.id, `looking up the provider job by label failed: ${after.error?.message}`);
      if (busyStates.includes(after.state)) {
        summary.started++;
        capacity--;
      } else if (after.attempts > job.attempts && !after.provider.jobName && !isTerminal(after.state)) {
        // An attempt was made and refused (429/5xx): the provider is throttling, and the
        // others would only be refused too. They keep their place for the next run.
        const waitedMs = now.getTime() - Date.parse(after.stateTime);
        logs.startDeferred(
          logger,
          job.id,
          after.nextAttemptTime,
          Number.isNaN(waitedMs) ? undefined : Math.round(waitedMs / 1000),
        );
        break;
      }
    } catch (error) {
      summary.errors++;
      logs.startFailed(logger, job.id, error);
      break;
    }
  }
}
