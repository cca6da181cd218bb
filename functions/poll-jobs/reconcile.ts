/**
 * What one poll does to one record, as a pure function: given the record and what the provider
 * reports for it (if anything), the record it should become, or undefined to leave it alone. The
 * poller runs it twice: once on the listed record to skip the write when nothing would
 * change (most records, most runs), and again inside `JobStore.update` on the fresh record, so a
 * concurrent writer is never overwritten. Pure, so a retried write just runs it again.
 */
import { applyReportedState, markStalled } from '../../shared/events/index.ts';
import { classifyTransition, isTerminal, type JobRecord, type JobState } from '../../shared/jobs/index.ts';
import type { ProviderJob } from '../../shared/providers/index.ts';

export interface ReconcileOptions {
  now: Date;
  project: string;
  stallTimeoutMs: number;
  /** A DRAFT nobody approved for this long expires; never when absent. */
  draftTtlMs?: number;
}

/** Failed reconciliations of one record after which the poller gives up on it (job.stalled). */
export const defaultMaxRecoveryAttempts = 12;

export interface ReconcileOutcome {
  /** The record to write; undefined when nothing changes. */
  job: JobRecord | undefined;
  from: JobState;
  to: JobState;
  /** The provider job this run adopted (the record had an intent but no job name). */
  adopted?: string;
  stalled: boolean;
  /** The provider reported a state the lifecycle forbids from here (a bug or a tampered record). */
  illegal?: JobState;
  /** Why the record expired this run (a DRAFT past its approval deadline). */
  expired?: string;
}

/** `7 days`, `36 hours`, `90 minutes`: the deadline as a person would say it, for the history. */
export function describeDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes % (24 * 60) === 0) return plural(minutes / (24 * 60), 'day');
  if (minutes % 60 === 0) return plural(minutes / 60, 'hour');
  return plural(minutes, 'minute');
}
const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;

/**
 * A DRAFT waiting for a person who never came. One that was approved (its start is in progress, or
 * waits for capacity) or has a start intent or a provider job is being started and never expires.
 */
function draftExpiry(job: JobRecord, options: ReconcileOptions): string | undefined {
  if (job.state !== 'DRAFT' || options.draftTtlMs === undefined) return undefined;
  if (job.approval.approveTime || job.provider.createIntentTime || job.provider.jobName) return undefined;
  const waited = options.now.getTime() - Date.parse(job.stateTime);
  return waited >= options.draftTtlMs
    ? `not approved within ${describeDuration(options.draftTtlMs)}`
    : undefined;
}

/** States in which nothing moving for a long time is worth telling someone (a DRAFT waits for a person by design). */
const stallable: readonly JobState[] = ['QUEUED', 'PENDING', 'RUNNING', 'CANCELLING'];

/** Not yet known to the provider as far as the record says: no job name recorded. */
const notStarted = (job: JobRecord) => job.state === 'QUEUED' || job.state === 'DRAFT';

const sameProgress = (a: JobRecord['progress'], b: JobRecord['progress']) =>
  a?.currentStep === b?.currentStep && a?.totalSteps === b?.totalSteps;

/** Results and data stats are small JSON values written by this module only: compared as JSON. */
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function withoutRecovery(job: JobRecord): JobRecord {
  const { recovery: _seen, ...rest } = job;
  return rest;
}

/** Applies what the provider reports: adoption, provider state, progress, and a forward state move. */
function observe(listed: JobRecord, observed: ProviderJob, options: ReconcileOptions) {
  let job = listed;
  const provider = {
    ...job.provider,
    jobName: job.provider.jobName ?? observed.name,
    state: observed.providerState,
  };
  const progress = observed.progress ? { ...job.progress, ...observed.progress } : job.progress;
  // Checkpoints and data stats appear while the job runs: kept as the provider last reported them.
  const result = observed.result ? { ...job.result, ...observed.result } : job.result;
  const tuningDataStats = observed.tuningDataStats ?? job.tuningDataStats;
  const adopted = job.provider.jobName === undefined ? observed.name : undefined;
  const kind = classifyTransition(job.state, observed.state);
  // Seen again: any count of failed reconciliations starts over.
  if (job.recovery) job = withoutRecovery(job);
  if (kind === 'forward' || (kind === 'illegal' && notStarted(job))) {
    const patch: Partial<JobRecord> = { provider };
    if (progress) patch.progress = progress;
    if (result) patch.result = result;
    if (tuningDataStats) patch.tuningDataStats = tuningDataStats;
    if (observed.error) patch.error = observed.error;
    const context = { now: options.now, project: options.project };
    let from = job;
    // A job adopted beyond PENDING still started: subscribers get `job.started` first, as they
    // would have had the start been recorded (and a DRAFT cannot jump to RUNNING directly).
    if (
      notStarted(job) &&
      observed.state !== 'PENDING' &&
      classifyTransition('PENDING', observed.state) === 'forward'
    ) {
      from =
        applyReportedState(job, 'PENDING', { ...context, reason: 'adopted a started provider job', patch }) ??
        job;
    }
    const moved = applyReportedState(from, observed.state, {
      ...context,
      reason: `provider reported ${observed.providerState}`,
      patch,
    });
    if (moved) return { job: moved, adopted };
  }
  // Same state, or a stale/backward report (ignored), or an illegal one (reported): keep the
  // state, but still record the provider's word and the progress.
  const unchanged =
    job === listed &&
    provider.jobName === job.provider.jobName &&
    provider.state === job.provider.state &&
    sameProgress(progress, job.progress) &&
    same(result, job.result) &&
    same(tuningDataStats, job.tuningDataStats);
  const next = unchanged
    ? listed
    : {
        ...job,
        provider,
        ...(progress ? { progress } : {}),
        ...(result ? { result } : {}),
        ...(tuningDataStats ? { tuningDataStats } : {}),
        updateTime: options.now.toISOString(),
      };
  return { job: next, adopted, illegal: kind === 'illegal' ? observed.state : undefined };
}

export function reconcile(
  job: JobRecord,
  observed: ProviderJob | undefined,
  options: ReconcileOptions,
): ReconcileOutcome {
  const outcome: ReconcileOutcome = {
    job: undefined,
    from: job.state,
    to: job.state,
    stalled: false,
  };
  if (isTerminal(job.state)) return outcome;
  const expiry = draftExpiry(job, options);
  if (expiry) {
    const expired = applyReportedState(job, 'EXPIRED', {
      now: options.now,
      project: options.project,
      reason: expiry,
    });
    if (expired) return { ...outcome, job: expired, to: expired.state, expired: expiry };
  }
  let next = job;
  // A record the poller gave up on has had its job.stalled: nothing more until it is seen again.
  const gaveUp = job.recovery?.gaveUpTime !== undefined;

  if (observed) {
    const seen = observe(job, observed, options);
    next = seen.job;
    if (seen.adopted) outcome.adopted = seen.adopted;
    if (seen.illegal) outcome.illegal = seen.illegal;
  }
  // No provider job seen: nothing to learn. A record with a create intent and no job name is
  // startJob's to settle (it looks the label up at the provider before any create, and keeps the
  // backoff of a failed attempt); concluding "never created" from a list here would skip both.

  if (
    stallable.includes(next.state) &&
    !(gaveUp && !observed) &&
    !next.stalledNotified &&
    options.now.getTime() - Date.parse(next.stateTime) >= options.stallTimeoutMs
  ) {
    const marked = markStalled(next, { now: options.now, project: options.project });
    if (marked) {
      next = marked;
      outcome.stalled = true;
    }
  }

  outcome.to = next.state;
  outcome.job = next === job ? undefined : next;
  return outcome;
}

export interface RecoveryFailureOutcome {
  /** The record to write; undefined when nothing changes (terminal, or already given up). */
  job: JobRecord | undefined;
  /** True when this failure used up the attempts: the job got its job.stalled with the reason. */
  gaveUp: boolean;
}

/**
 * Counts one failed attempt to reconcile a record with the provider (its job not found by name, a
 * label lookup that could not be answered). At `maxAttempts` the poller gives up: the record is
 * marked (`recovery.gaveUpTime`), gets `job.stalled` with the reason (once per state, as every
 * stall), and is no longer fetched or looked up; seeing its job in a later listing clears it.
 * Pure, for use inside `JobStore.update`.
 */
export function noteRecoveryFailure(
  job: JobRecord,
  reason: string,
  maxAttempts: number,
  options: ReconcileOptions,
): RecoveryFailureOutcome {
  if (isTerminal(job.state) || job.recovery?.gaveUpTime) return { job: undefined, gaveUp: false };
  const now = options.now.toISOString();
  const attempts = (job.recovery?.attempts ?? 0) + 1;
  const counted: JobRecord = {
    ...job,
    recovery: { attempts, lastError: reason, lastTime: now },
    updateTime: now,
  };
  if (attempts < maxAttempts) return { job: counted, gaveUp: false };
  const given: JobRecord = {
    ...counted,
    recovery: { attempts, lastError: reason, lastTime: now, gaveUpTime: now },
  };
  // The stall event carries the reason (events/build.ts stallReason); a job already reported
  // stalled in this state keeps that one event, and its record holds the reason.
  return { job: markStalled(given, options) ?? given, gaveUp: true };
}
