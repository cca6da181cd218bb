/**
 * The claim of a start (step 1 of startJob in start-job.ts) and what it does instead of claiming.
 * All pure record changes, made inside the claim's compare-and-set write.
 *
 * A claim records `provider.createIntentTime` and counts the attempt; only the caller whose claim
 * committed may call create.
 *
 * Pinned datasets: a record whose spec does not name the pinned copies it was validated from
 * (`validation.pinned`) is never created at the provider: it fails with DATASET_NOT_PINNED.
 *
 * After `maxStartAttempts` creates that certainly made no job, the next attempt gives up: FAILED
 * with START_ATTEMPTS_EXHAUSTED.
 *
 * Capacity: with `maxConcurrentJobs`, a job is not claimed while that many jobs hold a provider
 * slot (PENDING, RUNNING, CANCELLING, or a create in flight); it stays QUEUED, due now, and the
 * poller starts it when a slot frees. A soft cap: callers count, then claim, so concurrent
 * starts (ingest, approve, the poller at once) can overshoot it by their number.
 */
import { applyTransition } from '../events/index.ts';
import type { Logger } from '../logging/index.ts';
import type { JobRecord } from './model.ts';
import { refuseUnpinned, unpinnedDatasets } from './pinning.ts';
import {
  errorAttempts,
  hasCreateInFlight,
  type StartJobDeps,
  withoutIntent,
  withoutNextAttempt,
} from './start-policy.ts';

/** What the claim did instead of claiming, when it did something else. */
export type Diversion = 'at-capacity' | 'exhausted' | 'unpinned';

export interface ClaimLimits {
  maxStartAttempts: number;
  /** `deps.maxConcurrentJobs`; no cap when undefined. */
  cap: number | undefined;
  /** Jobs holding a provider slot, counted before the claim (undefined without a cap). */
  busy: number | undefined;
}

/** Claims the record, or diverts it: refuse unpinned datasets, give up, wait for capacity. */
export function claimOrDivert(
  deps: StartJobDeps,
  job: JobRecord,
  claimTime: string,
  limits: ClaimLimits,
): { record: JobRecord; diverted?: Diversion } {
  const unpinned = unpinnedDatasets(job);
  if (unpinned) return { record: refuseUnpinned(deps, job, unpinned), diverted: 'unpinned' };
  if (errorAttempts(job) >= limits.maxStartAttempts)
    return { record: giveUp(deps, job), diverted: 'exhausted' };
  // A crashed attempt of this very record is in the count; it does not compete with itself.
  const others = (limits.busy ?? 0) - (hasCreateInFlight(job) ? 1 : 0);
  if (limits.cap !== undefined && others >= limits.cap) {
    return { record: waitForCapacity(deps, job), diverted: 'at-capacity' };
  }
  return { record: claim(job, claimTime) };
}

/** The log line for a diverted claim; `job` is the record the claim read. */
export function logDiversion(
  log: Logger,
  diverted: Diversion,
  job: JobRecord | undefined,
  limits: ClaimLimits,
): void {
  if (diverted === 'exhausted') {
    log.warn('start gave up after too many attempts', { attempts: limits.maxStartAttempts });
  } else if (diverted === 'unpinned') {
    log.error('refused to start a job whose datasets are not the validated copies', {
      spec: { training: job?.spec.trainingDatasetUri, validation: job?.spec.validationDatasetUri },
    });
  } else {
    log.info('provider at capacity; job stays queued', {
      active: limits.busy,
      maxConcurrentJobs: limits.cap,
    });
  }
}

function claim(job: JobRecord, claimTime: string): JobRecord {
  return {
    ...withoutNextAttempt(job),
    provider: { ...job.provider, createIntentTime: claimTime },
    attempts: job.attempts + 1,
    updateTime: claimTime,
  };
}

/** QUEUED and due now: the poller starts it as soon as a provider slot frees. */
function waitForCapacity(deps: StartJobDeps, job: JobRecord): JobRecord {
  const now = deps.now();
  const patch = { nextAttemptTime: now.toISOString(), updateTime: now.toISOString() };
  if (job.state === 'QUEUED') return { ...job, ...patch };
  return applyTransition(job, 'QUEUED', {
    now,
    project: deps.project,
    reason: 'waiting for a free provider slot',
    patch,
  });
}

/**
 * FAILED (`job.failed`) after the last allowed attempt. Only called where no provider job can
 * exist: no intent (the last failure certainly made none), or a label lookup that found nothing.
 */
function giveUp(deps: StartJobDeps, job: JobRecord): JobRecord {
  const last = job.error?.message ?? 'unknown error';
  return applyTransition(withoutNextAttempt(job), 'FAILED', {
    now: deps.now(),
    project: deps.project,
    reason: 'gave up starting the job at the provider',
    patch: {
      provider: withoutIntent(job.provider),
      error: {
        code: 'START_ATTEMPTS_EXHAUSTED',
        message: `gave up after ${errorAttempts(job)} attempts: ${last}`,
      },
    },
  });
}
