/**
 * What a start leaves on the record when create failed, or when it cannot yet know whether an
 * earlier create did (startJob in start-job.ts).
 *
 * Failures of create: transient (429, 5xx, timeouts, an unreadable 2xx) → QUEUED with attempts
 * counted, the last error kept in `error`, and a `nextAttemptTime` by exponential backoff with
 * jitter, for the poller. The intent is cleared only when the provider certainly did not create
 * the job (429 RESOURCE_EXHAUSTED); otherwise it is kept, so the next attempt looks the label up
 * first and adopts what it finds. Permanent (400...) → FAILED with the provider's message and
 * field violations (`job.failed`). A 429 is waiting for quota (a burst beyond Vertex's concurrent
 * tuning jobs quota), not an error: it is counted in `quotaWaits`, spends none of the
 * `maxStartAttempts` budget (start-claim.ts) and keeps the backoff at the step the errors reached.
 * A long wait is still visible: the record stays QUEUED with its `nextAttemptTime`, and the
 * poller's stall check reports it (`job.stalled`).
 *
 * A lookup that finds nothing is trusted only once the attempt whose outcome is unknown is
 * `lookupSettleMs` old (a job Vertex AI just created may not be listed yet); until then the
 * record stays QUEUED, due at that time (awaitSettledLookup).
 */
import { PermanentError } from '../errors/index.ts';
import { applyTransition } from '../events/index.ts';
import { ProviderError } from '../providers/types.ts';
import { isTerminal, type JobRecord } from './model.ts';
import {
  backoffDelayMs,
  defaultBackoff,
  defaultLookupSettleMs,
  type StartJobDeps,
  withoutIntent,
} from './start-policy.ts';
import { canTransition } from './state-machine.ts';

/** FAILED (`job.failed`) with the provider's message and details: it refused the job for good. */
export async function failRejected(
  deps: StartJobDeps,
  jobId: string,
  error: ProviderError,
  flush: () => Promise<JobRecord>,
): Promise<JobRecord> {
  await deps.store.update(jobId, (current) => {
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
  deps.logger
    .child({ jobId })
    .warn('provider rejected the job', { httpStatus: error.httpStatus, status: error.status, error });
  return flush();
}

/**
 * An attempt with an unknown outcome is too recent for an empty lookup to prove it made no job:
 * stay QUEUED, due when the lookup can be believed. Nothing is created meanwhile.
 */
export async function awaitSettledLookup(
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

/**
 * QUEUED with backoff after a transient failure (of create, or of the lookup before it).
 * `clearIntent`: the provider certainly made no job (a 429), so the next attempt need not look
 * first, and (if the intent is still this attempt's) the attempt counts as a quota wait.
 */
export async function scheduleRetry(
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
