/**
 * Starting a job at the provider exactly once. Vertex AI's `tuningJobs.create` has no request id,
 * so a blind retry would bill twice. The protocol (DESIGN.md, failure model):
 *
 * 1. Claim: in one compare-and-set write, record `provider.createIntentTime` on a startable record (QUEUED, or
 *    an approved DRAFT) that has neither an intent nor a job name. Only the caller whose claim
 *    committed may call create; every concurrent caller sees the intent instead. The claim may
 *    divert instead: unpinned datasets, too many attempts, no free provider slot (start-claim.ts).
 * 2. A record that already has an intent but no job name was interrupted (a crash or a timeout
 *    between create and the record update) or is being started right now. Look the job up by its
 *    `tunedrop-job-id` label first and ADOPT what is found. Nothing found: if the earlier attempt
 *    has finished (it left a `nextAttemptTime`) or its intent is older than `intentTimeoutMs`, the
 *    job certainly does not exist, so re-claim (compare-and-set on the old intent) and create;
 *    otherwise another caller is still in its create call: leave it alone. An empty lookup is
 *    believed only once the earlier attempt is `lookupSettleMs` old (start-failures.ts).
 * 3. Record the job name and move to PENDING (`job.started`) in one write (start-recording.ts:
 *    duplicates a lagging list let an earlier attempt create, a record deleted or ended meanwhile).
 *
 * A failed create leaves the record QUEUED with backoff (transient) or FAILED (permanent); see
 * start-failures.ts. The pure rules (plan, backoff, which errors prove no job) are in
 * start-policy.ts.
 *
 * Outbox events are published after each commit. Used by ingest, the poller (QUEUED retries) and
 * the API (approve).
 */

import { PermanentError } from '../errors/index.ts';
import { publishPending } from '../events/index.ts';
import { ProviderError, type ProviderJob } from '../providers/types.ts';
import { findProviderJobs } from './duplicates.ts';
import type { JobRecord } from './model.ts';
import { type ClaimLimits, claimOrDivert, type Diversion, logDiversion } from './start-claim.ts';
import { awaitSettledLookup, failRejected, scheduleRetry } from './start-failures.ts';
import {
  certainlyNotCreated,
  defaultIntentTimeoutMs,
  defaultLookupSettleMs,
  defaultMaxStartAttempts,
  planStart,
  providerSlotStates,
  type StartJobDeps,
  type StartPlan,
} from './start-policy.ts';
import { adopt, recordProviderJob } from './start-recording.ts';

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
  const limits: ClaimLimits = { maxStartAttempts, cap, busy };
  /** Set by each claim write: what it did instead of claiming, if anything. */
  let diverted: Diversion | undefined;
  let claimed: JobRecord | undefined;
  const diversion = async (divertedAs: Diversion): Promise<JobRecord> => {
    logDiversion(log, divertedAs, claimed, limits);
    return flush();
  };

  // 1. Claim, or learn that a previous attempt left an intent.
  let plan: StartPlan = { action: 'skip', reason: 'not-startable' };
  let claimTime = deps.now().toISOString();
  claimed = await store.update(jobId, (job) => {
    diverted = undefined;
    plan = planStart(job, deps.now(), intentTimeoutMs);
    if (plan.action !== 'claim') return undefined;
    const outcome = claimOrDivert(deps, job, claimTime, limits);
    diverted = outcome.diverted;
    return outcome.record;
  });
  if (!claimed) throw new PermanentError(`no job ${jobId}`, 'job-not-found');
  const firstPlan = plan as StartPlan;
  if (firstPlan.action === 'skip') {
    log.debug('start skipped', { reason: firstPlan.reason, state: claimed.state });
    return claimed;
  }
  if (diverted) return diversion(diverted);
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
      const outcome = claimOrDivert(deps, current, claimTime, limits);
      diverted = outcome.diverted;
      reclaimed = !diverted;
      return outcome.record;
    });
    if (after && diverted) return diversion(diverted);
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
    if (error instanceof ProviderError && !error.transient) return failRejected(deps, jobId, error, flush);
    return scheduleRetry(deps, jobId, error, claimTime, certainlyNotCreated(error), flush);
  }
  return recordProviderJob(deps, jobId, created, 'created at the provider', flush);
}
