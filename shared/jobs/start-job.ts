/**
 * Starting a job at the provider exactly once. Vertex AI's `tuningJobs.create` has no request id,
 * so a blind retry would bill twice. The protocol (DESIGN.md, failure model):
 *
 * 1. Claim: in one compare-and-set write, record `provider.createIntentTime` on a startable record (QUEUED, or
 *    an approved DRAFT) that has neither an intent nor a job name. Only the caller whose claim
 *    committed may call create; every concurrent caller sees the intent instead.
 * 2. A record that already has an intent but no job name was interrupted (a crash or a timeout
 *    between create and the record update) or is being started right now. Look the job up by its
 *    `tunedrop-job-id` label first and ADOPT what is found. Nothing found: if the earlier attempt
 *    has finished (it left a `nextAttemptTime`) or its intent is older than `intentTimeoutMs`, the
 *    job certainly does not exist, so re-claim (compare-and-set on the old intent) and create;
 *    otherwise another caller is still in its create call: leave it alone.
 * 3. Record the job name and move to PENDING (`job.started`) in one write.
 *
 * Lookups list EVERY job carrying the label (duplicates.ts): if a lagging list made an earlier
 * attempt create a second job, the oldest is kept and the others are cancelled, with a line in
 * the record's history and an ERROR log. A lookup that finds nothing is trusted only once the
 * attempt whose outcome is unknown is `lookupSettleMs` old (a job Vertex AI just created may not
 * be listed yet); until then the record stays QUEUED, due at that time.
 *
 * Pinned datasets: a record whose spec does not name the pinned copies it was validated from
 * (`validation.pinned`) is never created at the provider: it fails with DATASET_NOT_PINNED.
 *
 * A record that disappears (deleted) while it is being started stops the start with a
 * PermanentError; a provider job created for it meanwhile is cancelled (no record would track it).
 *
 * Failures of create: transient (429, 5xx, timeouts, an unreadable 2xx) → QUEUED with attempts
 * counted, the last error kept in `error`, and a `nextAttemptTime` by exponential backoff with
 * jitter, for the poller. The intent is cleared only when the provider certainly did not create
 * the job (429 RESOURCE_EXHAUSTED); otherwise it is kept, so the next attempt looks the label up
 * first and adopts what it finds. Permanent (400...) → FAILED with the provider's message and
 * field violations (`job.failed`). After `maxStartAttempts` creates that certainly made no job,
 * the next attempt gives up: FAILED with START_ATTEMPTS_EXHAUSTED. A 429 is waiting for quota (a
 * burst beyond Vertex's concurrent tuning jobs quota), not an error: it is counted in `quotaWaits`,
 * spends none of that budget and keeps the backoff at the step the errors reached. A long wait is
 * still visible: the record stays QUEUED with its `nextAttemptTime`, and the poller's stall check
 * reports it (`job.stalled`).
 *
 * Capacity: with `maxConcurrentJobs`, a job is not claimed while that many jobs hold a provider
 * slot (PENDING, RUNNING, CANCELLING, or a create in flight); it stays QUEUED, due now, and the
 * poller starts it when a slot frees. A soft cap: callers count, then claim, so concurrent
 * starts (ingest, approve, the poller at once) can overshoot it by their number.
 *
 * Outbox events are published after each commit. Used by ingest, the poller (QUEUED retries) and
 * the API (approve).
 */

import { PermanentError } from '../errors/index.ts';
import { applyTransition, publishPending } from '../events/index.ts';
import { ProviderError, type ProviderJob } from '../providers/types.ts';
import { cancelDuplicates, findProviderJobs, oldestFirst, settleDuplicates } from './duplicates.ts';
import { isTerminal, type JobRecord } from './model.ts';
import { refuseUnpinned, unpinnedDatasets } from './pinning.ts';
import {
  backoffDelayMs,
  certainlyNotCreated,
  defaultBackoff,
  defaultIntentTimeoutMs,
  defaultLookupSettleMs,
  defaultMaxStartAttempts,
  errorAttempts,
  hasCreateInFlight,
  planStart,
  providerSlotStates,
  type StartJobDeps,
  type StartPlan,
  withoutIntent,
  withoutNextAttempt,
} from './start-policy.ts';
import { canTransition } from './state-machine.ts';

export {
  type BackoffPolicy,
  backoffDelayMs,
  certainlyNotCreated,
  defaultBackoff,
  defaultIntentTimeoutMs,
  defaultLookupSettleMs,
  defaultMaxStartAttempts,
  hasCreateInFlight,
  planStart,
  providerSlotStates,
  type StartDepsSource,
  type StartJobDeps,
  type StartPlan,
  startDepsFrom,
} from './start-policy.ts';

/** What the claim did instead of claiming, when it did something else. */
type Diverted = 'at-capacity' | 'exhausted' | 'unpinned' | undefined;

export async function startJob(deps: StartJobDeps, jobId: string): Promise<JobRecord> {
  const { store, provider, logger } = deps;
  const intentTimeoutMs = deps.intentTimeoutMs ?? defaultIntentTimeoutMs;
  const maxStartAttempts = deps.maxStartAttempts ?? defaultMaxStartAttempts;
  const log = logger.child({ jobId });
  const flush = async () => {
    await publishPending(store, deps.publisher, jobId, log, { now: deps.now });
    const latest = await store.get(jobId);
    if (!latest) throw new PermanentError(`job ${jobId} disappeared`, 'job-not-found');
    return latest;
  };

  // Counted before the claim (a query cannot run inside `mutate`), so the cap is soft.
  const cap = deps.maxConcurrentJobs;
  const busy =
    cap === undefined ? undefined : await store.countByStates(providerSlotStates, { orCreateInFlight: true });
  /** Claims the record, or diverts it: give up after too many attempts, wait for capacity. */
  let diverted: Diverted;
  const claimOrDivert = (job: JobRecord, claimTime: string): JobRecord => {
    const unpinned = unpinnedDatasets(job);
    if (unpinned) {
      diverted = 'unpinned';
      return refuseUnpinned(deps, job, unpinned);
    }
    if (errorAttempts(job) >= maxStartAttempts) {
      diverted = 'exhausted';
      return giveUp(deps, job);
    }
    // A crashed attempt of this very record is in the count; it does not compete with itself.
    const others = (busy ?? 0) - (hasCreateInFlight(job) ? 1 : 0);
    if (cap !== undefined && others >= cap) {
      diverted = 'at-capacity';
      return waitForCapacity(deps, job);
    }
    return claim(job, claimTime);
  };
  let claimed: JobRecord | undefined;
  const diversion = async (): Promise<JobRecord> => {
    if (diverted === 'exhausted') {
      log.warn('start gave up after too many attempts', { attempts: maxStartAttempts });
    } else if (diverted === 'unpinned') {
      log.error('refused to start a job whose datasets are not the validated copies', {
        spec: { training: claimed?.spec.trainingDatasetUri, validation: claimed?.spec.validationDatasetUri },
      });
    } else {
      log.info('provider at capacity; job stays queued', { active: busy, maxConcurrentJobs: cap });
    }
    return flush();
  };

  // 1. Claim, or learn that a previous attempt left an intent.
  let plan: StartPlan = { action: 'skip', reason: 'not-startable' };
  let claimTime = deps.now().toISOString();
  claimed = await store.update(jobId, (job) => {
    diverted = undefined;
    plan = planStart(job, deps.now(), intentTimeoutMs);
    if (plan.action !== 'claim') return undefined;
    return claimOrDivert(job, claimTime);
  });
  if (!claimed) throw new PermanentError(`no job ${jobId}`, 'job-not-found');
  const firstPlan = plan as StartPlan;
  if (firstPlan.action === 'skip') {
    log.debug('start skipped', { reason: firstPlan.reason, state: claimed.state });
    return claimed;
  }
  if (diverted) return diversion();
  let job = claimed;

  // 2. An earlier intent: adopt the job it may have created, or re-claim.
  if (firstPlan.action === 'recover') {
    let found: ProviderJob[];
    try {
      // The intent bounds how far back a lookup without a usable label filter must read.
      found = await findProviderJobs(provider, jobId, { createdAfter: firstPlan.intentTime });
    } catch (error) {
      // Another caller may be inside its create call: recording an outcome here (a
      // nextAttemptTime) would tell everyone the attempt is over and invite a second create.
      if (firstPlan.inFlight) throw error;
      return scheduleRetry(deps, jobId, error, firstPlan.intentTime, false, flush);
    }
    if (found.length > 0) return adopt(deps, jobId, found, flush, firstPlan.inFlight);
    if (firstPlan.inFlight) {
      log.info('start in progress elsewhere; leaving it to that caller', {
        intentTime: firstPlan.intentTime,
      });
      return claimed;
    }
    const settleUntil = Date.parse(firstPlan.intentTime) + (deps.lookupSettleMs ?? defaultLookupSettleMs);
    if (deps.now().getTime() < settleUntil) {
      return awaitSettledLookup(deps, jobId, firstPlan.intentTime, settleUntil, flush);
    }
    claimTime = deps.now().toISOString();
    let reclaimed = false;
    const after = await store.update(jobId, (current) => {
      reclaimed = false;
      diverted = undefined;
      const again = planStart(current, deps.now(), intentTimeoutMs);
      if (again.action !== 'recover' || again.intentTime !== firstPlan.intentTime || again.inFlight)
        return undefined;
      const next = claimOrDivert(current, claimTime);
      reclaimed = !diverted;
      return next;
    });
    if (after && diverted) return diversion();
    if (!after || !reclaimed) return after ?? claimed;
    log.info('an interrupted start made no provider job; creating it now', {
      previousIntentTime: firstPlan.intentTime,
    });
    job = after;
  }

  // 3. The claim is ours (`job` is the record as claimed): create, then record.
  let created: ProviderJob;
  try {
    log.info('creating provider job', { provider: provider.name, attempt: job.attempts });
    // Datasets prepared at ingest (Yandex) are reused, not uploaded again.
    const { datasets } = job.provider;
    created = datasets
      ? await provider.createJob(job.spec, jobId, { datasets })
      : await provider.createJob(job.spec, jobId);
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

/** Records the provider job on the record and moves it to PENDING (`job.started`). */
async function record(
  deps: StartJobDeps,
  jobId: string,
  found: ProviderJob,
  reason: string,
  flush: () => Promise<JobRecord>,
  duplicates: readonly ProviderJob[] = [],
): Promise<JobRecord> {
  const log = deps.logger.child({ jobId });
  let conflict: string | undefined;
  let endedAs: string | undefined;
  const updated = await deps.store.update(jobId, (job) => {
    conflict = undefined;
    endedAs = undefined;
    if (job.provider.jobName) {
      if (job.provider.jobName !== found.name) conflict = job.provider.jobName;
      return undefined;
    }
    const now = deps.now();
    const provider = { ...job.provider, jobName: found.name, state: found.providerState };
    if (isTerminal(job.state)) {
      // Finished meanwhile (e.g. CANCELLED by the API while create was in flight): keep the
      // outcome, but record the job that now exists so it is never lost; it is cancelled below.
      endedAs = job.state;
      return {
        ...job,
        provider,
        updateTime: now.toISOString(),
        history: [
          ...job.history,
          {
            state: job.state,
            time: now.toISOString(),
            reason: `provider job ${found.name} appeared after the job was ${job.state}; cancelling it`,
          },
        ],
      };
    }
    // The last transient error (kept while QUEUED) no longer applies to a started job.
    const { error: _lastError, ...cleared } = withoutNextAttempt(job);
    const patch = { provider, updateTime: now.toISOString() };
    if (!canTransition(job.state, 'PENDING')) return { ...cleared, ...patch };
    return applyTransition(cleared, 'PENDING', { now, project: deps.project, reason, patch });
  });
  if (!updated) {
    // Deleted while it was being started: no record will ever track, bill or finish this job.
    log.error('the job record disappeared while it was being started; cancelling its provider job', {
      providerJobName: found.name,
    });
    await cancelDuplicates(deps.provider, [found, ...duplicates]);
    throw new PermanentError(
      `job ${jobId} was deleted while it was being started; provider job ${found.name} was cancelled`,
      'job-not-found',
    );
  }
  if (conflict) {
    // The record already names a job (a concurrent start recorded it): that one stays, the job
    // in hand is a second billed job for one record.
    await settleDuplicates(deps, jobId, conflict, [found]);
  } else if (endedAs) {
    log.error('a provider job was created for a job that had already ended; cancelling it', {
      providerJobName: found.name,
      state: endedAs,
    });
    try {
      await deps.provider.cancelJob(found.name);
    } catch (error) {
      log.error('could not cancel the stray provider job; cancel it by hand', {
        providerJobName: found.name,
        error,
      });
    }
  } else {
    log.info('provider job recorded', { providerJobName: found.name, reason });
  }
  if (!conflict && duplicates.length > 0) await settleDuplicates(deps, jobId, found.name, duplicates);
  return flush();
}

async function adopt(
  deps: StartJobDeps,
  jobId: string,
  found: readonly ProviderJob[],
  flush: () => Promise<JobRecord>,
  inFlight: boolean,
): Promise<JobRecord> {
  const [oldest, ...duplicates] = oldestFirst(found) as [ProviderJob, ...ProviderJob[]];
  if (inFlight) {
    // Within the intent timeout this is most often no interruption at all: another caller's
    // create has returned and is being recorded right now (ingest and approve or the poller
    // racing on a fresh job). Recording it too is harmless; nothing to warn about.
    deps.logger.info('found the provider job of a start begun elsewhere; recording it', {
      jobId,
      providerJobName: oldest.name,
    });
    return record(
      deps,
      jobId,
      oldest,
      'adopted the provider job of a start begun elsewhere',
      flush,
      duplicates,
    );
  }
  deps.logger.warn('adopting the provider job of an interrupted start', {
    jobId,
    providerJobName: oldest.name,
    ...(duplicates.length > 0 ? { duplicates: duplicates.map((job) => job.name) } : {}),
  });
  return record(deps, jobId, oldest, 'adopted the provider job of an interrupted start', flush, duplicates);
}

/**
 * An attempt with an unknown outcome is too recent for an empty lookup to prove it made no job:
 * stay QUEUED, due when the lookup can be believed. Nothing is created meanwhile.
 */
async function awaitSettledLookup(
  deps: StartJobDeps,
  jobId: string,
  intentTime: string,
  settleUntil: number,
  flush: () => Promise<JobRecord>,
): Promise<JobRecord> {
  const nextAttemptTime = new Date(settleUntil).toISOString();
  const updated = await deps.store.update(jobId, (job) => {
    if (job.provider.jobName || job.provider.createIntentTime !== intentTime || isTerminal(job.state))
      return undefined;
    const now = deps.now();
    if (job.state === 'QUEUED') return { ...job, nextAttemptTime, updateTime: now.toISOString() };
    return applyTransition(job, 'QUEUED', {
      now,
      project: deps.project,
      reason: 'waiting for the provider to list a job an earlier attempt may have made',
      patch: { nextAttemptTime, updateTime: now.toISOString() },
    });
  });
  if (!updated)
    throw new PermanentError(`job ${jobId} was deleted while it was being started`, 'job-not-found');
  deps.logger.info('label lookup found nothing yet; not creating until the earlier attempt can be listed', {
    jobId,
    intentTime,
    nextAttemptTime,
  });
  return flush();
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
  const lastError =
    error instanceof ProviderError
      ? { code: error.status || error.httpStatus, message: error.message }
      : { code: 'UNKNOWN', message: error instanceof Error ? error.message : String(error) };
  const settleMs = deps.lookupSettleMs ?? defaultLookupSettleMs;
  const updated = await deps.store.update(jobId, (job) => {
    if (job.provider.jobName || isTerminal(job.state)) return undefined;
    const now = deps.now();
    const ours = job.provider.createIntentTime === intentTime;
    // Only a 429 clears the intent (certainlyNotCreated): that attempt was a quota wait.
    const quotaWait = clearIntent && ours;
    const quotaWaits = (job.quotaWaits ?? 0) + (quotaWait ? 1 : 0);
    const errors = job.attempts - quotaWaits;
    // Not before the lookup that must precede a re-create can see what this attempt made.
    const earliest = clearIntent ? 0 : Date.parse(intentTime) + settleMs;
    nextAttemptTime = new Date(
      Math.max(now.getTime() + backoffDelayMs(errors, backoff, random), earliest),
    ).toISOString();
    const patch = {
      ...(quotaWaits ? { quotaWaits } : {}),
      provider: quotaWait ? withoutIntent(job.provider) : job.provider,
      nextAttemptTime,
      // Kept while QUEUED, for the message of a start that finally gives up.
      error: lastError,
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
  if (!updated)
    throw new PermanentError(`job ${jobId} was deleted while it was being started`, 'job-not-found');
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
