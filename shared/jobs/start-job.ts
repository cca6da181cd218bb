/**
 * Starting a job at the provider exactly once. Vertex AI's `tuningJobs.create` has no request id,
 * so a blind retry would bill twice. The protocol (DESIGN.md, failure model):
 *
 * 1. Claim: in a transaction, record `provider.createIntentTime` on a startable record (QUEUED, or
 *    an approved DRAFT) that has neither an intent nor a job name. Only the caller whose claim
 *    committed may call create; every concurrent caller sees the intent instead.
 * 2. A record that already has an intent but no job name was interrupted (a crash or a timeout
 *    between create and the record update) or is being started right now. Look the job up by its
 *    `tunedrop-job-id` label first and ADOPT what is found. Nothing found: if the earlier attempt
 *    has finished (it left a `nextAttemptTime`) or its intent is older than `intentTimeoutMs`, the
 *    job certainly does not exist, so re-claim (compare-and-set on the old intent) and create;
 *    otherwise another caller is still in its create call: leave it alone.
 * 3. Record the job name and move to PENDING (`job.started`) in a transaction.
 *
 * Failures of create: transient (429, 5xx, timeouts) → QUEUED with attempts counted and a
 * `nextAttemptTime` by exponential backoff with jitter, for the poller. The intent is cleared only
 * when the provider certainly did not create the job (429 RESOURCE_EXHAUSTED); after a 5xx, a
 * timeout or a network error it is kept, so the next attempt looks the label up first and adopts
 * what it finds. Permanent (400...) →
 * FAILED with the provider's message and field violations (`job.failed`).
 *
 * Outbox events are published after each commit. Used by ingest, the poller (QUEUED retries) and
 * the API (approve).
 */

import { PermanentError } from '../errors/index.ts';
import { applyTransition, type EventPublisher, publishPending } from '../events/index.ts';
import type { Logger } from '../logging/index.ts';
import { ProviderError, type ProviderJob, type TuningProvider } from '../providers/types.ts';
import { isTerminal, type JobRecord } from './model.ts';
import { canTransition } from './state-machine.ts';
import type { JobStore } from './store-types.ts';

export interface BackoffPolicy {
  /** Delay before the second attempt; doubled for each further attempt. */
  baseMs: number;
  maxMs: number;
}

export const defaultBackoff: BackoffPolicy = { baseMs: 30_000, maxMs: 30 * 60_000 };

/**
 * How long an intent without a job name counts as "a create call in progress". Longer than any
 * create call can take (the Vertex client times out after 30 s, a function after 9 min at most).
 */
export const defaultIntentTimeoutMs = 10 * 60_000;

export interface StartJobDeps {
  store: JobStore;
  provider: TuningProvider;
  publisher: EventPublisher;
  logger: Logger;
  now: () => Date;
  /** The Google Cloud project, for event sources. */
  project: string;
  backoff?: BackoffPolicy;
  intentTimeoutMs?: number;
  /** In [0, 1); Math.random by default. Tests pass a fixed one. */
  random?: () => number;
}

/** What a call found to do with a record. */
export type StartPlan =
  | { action: 'claim' }
  | { action: 'recover'; intentTime: string; inFlight: boolean }
  | {
      action: 'skip';
      reason: 'already-started' | 'terminal' | 'awaiting-approval' | 'not-startable' | 'not-due';
    };

/** Decides, from the record alone, whether a caller may claim the start. Pure. */
export function planStart(job: JobRecord, now: Date, intentTimeoutMs = defaultIntentTimeoutMs): StartPlan {
  if (job.provider.jobName) return { action: 'skip', reason: 'already-started' };
  if (isTerminal(job.state)) return { action: 'skip', reason: 'terminal' };
  if (job.state === 'DRAFT' && !job.approval.approveTime)
    return { action: 'skip', reason: 'awaiting-approval' };
  if (job.state !== 'QUEUED' && job.state !== 'DRAFT') return { action: 'skip', reason: 'not-startable' };
  const intentTime = job.provider.createIntentTime;
  if (job.nextAttemptTime && job.nextAttemptTime > now.toISOString())
    return { action: 'skip', reason: 'not-due' };
  if (intentTime) {
    // A finished attempt leaves a nextAttemptTime; a crashed one leaves only an old intent.
    const inFlight = !job.nextAttemptTime && now.getTime() - Date.parse(intentTime) < intentTimeoutMs;
    return { action: 'recover', intentTime, inFlight };
  }
  return { action: 'claim' };
}

/** Exponential backoff with "equal jitter": half the delay fixed, half random. */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + (random() * exponential) / 2);
}

/**
 * True only when a failed create certainly made no job: a 429 RESOURCE_EXHAUSTED (quota is
 * refused before any work) or a 4xx validation answer (400, 403, 404: the request was refused).
 * Everything else leaves it unknown and keeps the intent, so the next attempt looks the label up
 * first: a 5xx can come after Vertex AI created the job (a 503 from a front end whose backend
 * finished), and a timeout or a dropped connection says nothing at all.
 */
export function certainlyNotCreated(error: unknown): boolean {
  if (!(error instanceof ProviderError)) return false;
  if (error.httpStatus === 429) return error.status === 'RESOURCE_EXHAUSTED';
  return nothingCreatedStatuses.has(error.httpStatus);
}

const nothingCreatedStatuses = new Set([400, 403, 404]);

function withoutIntent(provider: JobRecord['provider']): JobRecord['provider'] {
  const { createIntentTime: _dropped, ...rest } = provider;
  return rest;
}

function withoutNextAttempt(job: JobRecord): JobRecord {
  const { nextAttemptTime: _dropped, ...rest } = job;
  return rest;
}

export async function startJob(deps: StartJobDeps, jobId: string): Promise<JobRecord> {
  const { store, provider, logger } = deps;
  const intentTimeoutMs = deps.intentTimeoutMs ?? defaultIntentTimeoutMs;
  const log = logger.child({ jobId });
  const flush = async () => {
    await publishPending(store, deps.publisher, jobId, log, { now: deps.now });
    const latest = await store.get(jobId);
    if (!latest) throw new PermanentError(`job ${jobId} disappeared`, 'job-not-found');
    return latest;
  };

  // 1. Claim, or learn that a previous attempt left an intent.
  let plan: StartPlan = { action: 'skip', reason: 'not-startable' };
  let claimTime = deps.now().toISOString();
  const claimed = await store.update(jobId, (job) => {
    plan = planStart(job, deps.now(), intentTimeoutMs);
    if (plan.action !== 'claim') return undefined;
    return claim(job, claimTime);
  });
  if (!claimed) throw new PermanentError(`no job ${jobId}`, 'job-not-found');
  const firstPlan = plan as StartPlan;
  if (firstPlan.action === 'skip') {
    log.debug('start skipped', { reason: firstPlan.reason, state: claimed.state });
    return claimed;
  }

  // 2. An earlier intent: adopt the job it may have created, or re-claim.
  if (firstPlan.action === 'recover') {
    let found: ProviderJob | undefined;
    try {
      found = await provider.findJobByRecordId(jobId);
    } catch (error) {
      return scheduleRetry(deps, jobId, error, firstPlan.intentTime, false, flush);
    }
    if (found) return adopt(deps, jobId, found, flush);
    if (firstPlan.inFlight) {
      log.info('start in progress elsewhere; leaving it to that caller', {
        intentTime: firstPlan.intentTime,
      });
      return claimed;
    }
    claimTime = deps.now().toISOString();
    let reclaimed = false;
    const after = await store.update(jobId, (job) => {
      reclaimed = false;
      const again = planStart(job, deps.now(), intentTimeoutMs);
      if (again.action !== 'recover' || again.intentTime !== firstPlan.intentTime || again.inFlight)
        return undefined;
      reclaimed = true;
      return claim(job, claimTime);
    });
    if (!after || !reclaimed) return after ?? claimed;
    log.info('an interrupted start made no provider job; creating it now', {
      previousIntentTime: firstPlan.intentTime,
    });
  }

  // 3. The claim is ours: create, then record.
  const job = (await store.get(jobId))!;
  let created: ProviderJob;
  try {
    log.info('creating provider job', { provider: provider.name, attempt: job.attempts });
    created = await provider.createJob(job.spec, jobId);
  } catch (error) {
    if (error instanceof ProviderError && !error.transient) {
      await store.update(jobId, (current) => {
        if (current.provider.jobName || !canTransition(current.state, 'FAILED')) return undefined;
        return applyTransition(current, 'FAILED', {
          now: deps.now(),
          project: deps.project,
          reason: 'the provider rejected the job',
          patch: {
            error: { code: error.status || error.httpStatus, message: error.message, details: error.details },
          },
        });
      });
      log.warn('provider rejected the job', { httpStatus: error.httpStatus, status: error.status, error });
      return flush();
    }
    return scheduleRetry(deps, jobId, error, claimTime, certainlyNotCreated(error), flush);
  }
  return record(deps, jobId, created, 'created at the provider', flush);
}

function claim(job: JobRecord, claimTime: string): JobRecord {
  return {
    ...withoutNextAttempt(job),
    provider: { ...job.provider, createIntentTime: claimTime },
    attempts: job.attempts + 1,
    updateTime: claimTime,
  };
}

/** Records the provider job on the record and moves it to PENDING (`job.started`). */
async function record(
  deps: StartJobDeps,
  jobId: string,
  found: ProviderJob,
  reason: string,
  flush: () => Promise<JobRecord>,
): Promise<JobRecord> {
  const log = deps.logger.child({ jobId });
  let conflict: string | undefined;
  await deps.store.update(jobId, (job) => {
    conflict = undefined;
    if (job.provider.jobName) {
      if (job.provider.jobName !== found.name) conflict = job.provider.jobName;
      return undefined;
    }
    const now = deps.now();
    const patch = {
      provider: { ...job.provider, jobName: found.name, state: found.providerState },
      updateTime: now.toISOString(),
    };
    const cleared = withoutNextAttempt(job);
    if (!canTransition(job.state, 'PENDING')) return { ...cleared, ...patch };
    return applyTransition(cleared, 'PENDING', { now, project: deps.project, reason, patch });
  });
  if (conflict) {
    // Cannot happen while the protocol holds; loud, because it means two billed jobs.
    log.error('a second provider job exists for this record', { recorded: conflict, other: found.name });
  } else {
    log.info('provider job recorded', { providerJobName: found.name, reason });
  }
  return flush();
}

async function adopt(
  deps: StartJobDeps,
  jobId: string,
  found: ProviderJob,
  flush: () => Promise<JobRecord>,
): Promise<JobRecord> {
  deps.logger.warn('adopting the provider job of an interrupted start', {
    jobId,
    providerJobName: found.name,
  });
  return record(deps, jobId, found, 'adopted the provider job of an interrupted start', flush);
}

async function scheduleRetry(
  deps: StartJobDeps,
  jobId: string,
  error: unknown,
  intentTime: string,
  clearIntent: boolean,
  flush: () => Promise<JobRecord>,
): Promise<JobRecord> {
  const backoff = deps.backoff ?? defaultBackoff;
  const random = deps.random ?? Math.random;
  let nextAttemptTime: string | undefined;
  await deps.store.update(jobId, (job) => {
    if (job.provider.jobName || isTerminal(job.state)) return undefined;
    const now = deps.now();
    nextAttemptTime = new Date(now.getTime() + backoffDelayMs(job.attempts, backoff, random)).toISOString();
    const ours = job.provider.createIntentTime === intentTime;
    const patch = {
      provider: clearIntent && ours ? withoutIntent(job.provider) : job.provider,
      nextAttemptTime,
      updateTime: now.toISOString(),
    };
    if (job.state === 'QUEUED') return { ...job, ...patch };
    return applyTransition(job, 'QUEUED', {
      now,
      project: deps.project,
      reason: 'provider temporarily unavailable',
      patch,
    });
  });
  deps.logger.warn('provider job not started; queued for a retry', {
    jobId,
    nextAttemptTime,
    intentCleared: clearIntent,
    ...(error instanceof ProviderError
      ? { httpStatus: error.httpStatus, status: error.status, message: error.message }
      : { error }),
  });
  return flush();
}
