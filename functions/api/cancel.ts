/**
 * Cancelling a job. What is safe depends on whether a provider job may exist:
 *
 * - No job name and no create intent (a DRAFT, or QUEUED before any create call): nothing runs at
 *   the provider, so the record goes straight to CANCELLED (`job.cancelled`). The write
 *   re-checks the intent, so a start claimed concurrently is never cancelled behind its back.
 * - A job name: ask the provider to cancel first, then record CANCELLING; the poller sees the
 *   provider's CANCELLED (or a completion that won the race) and emits the outcome.
 * - An intent but no job name (a create call in flight, or interrupted): look the job up by its
 *   record label. Found: cancel it as above. Not found and the create may still be in flight:
 *   409 ABORTED, try again shortly (cancelling now could leave a job nobody tracks). Not found
 *   and the attempt is over: no job exists, so CANCELLED, compare-and-set on the intent.
 *
 * CANCELLING again is a no-op (a retried request); a terminal job is 409 FAILED_PRECONDITION.
 */
import { applyTransition, publishPending } from '../../shared/events/index.ts';
import { canTransition, isTerminal, type JobRecord } from '../../shared/jobs/index.ts';
import { planStart } from '../../shared/jobs/start-job.ts';
import type { ApiDeps } from './deps.ts';
import { ApiError } from './errors.ts';
import { logs } from './logs.ts';
import { missingJobError } from './rejected.ts';

export interface CancelRequest {
  by: string;
  reason?: string;
}

const notFound = (jobId: string) => new ApiError('NOT_FOUND', `job ${jobId} not found`);
const terminal = (job: JobRecord) =>
  new ApiError('FAILED_PRECONDITION', `job ${job.id} is already ${job.state}; it cannot be cancelled`);

/** The record's create attempt may still be running, by the same rule startJob follows. */
function createMayBeInFlight(job: JobRecord, now: Date): boolean {
  const plan = planStart(job, now);
  return plan.action === 'recover' && plan.inFlight;
}

export async function cancelJob(deps: ApiDeps, jobId: string, request: CancelRequest): Promise<JobRecord> {
  const reason = request.reason ?? `cancelled by ${request.by}`;
  // A concurrent start can change the picture between our read and our write: decide again then.
  for (let attempt = 0; attempt < 5; attempt++) {
    const job = await deps.store.get(jobId);
    if (!job) throw await missingJobError(deps, jobId, 'cancel');
    if (isTerminal(job.state)) throw terminal(job);
    if (job.state === 'CANCELLING') return job;

    if (job.provider.jobName) return cancelAtProvider(deps, job, job.provider.jobName, reason, request.by);

    const intent = job.provider.createIntentTime;
    if (intent) {
      const found = await deps.provider.findJobByRecordId(jobId);
      if (found) return cancelAtProvider(deps, job, found.name, reason, request.by);
      if (createMayBeInFlight(job, deps.clock())) {
        throw new ApiError(
          'ABORTED',
          `job ${jobId} is being started at the provider right now; try cancelling again in a minute`,
        );
      }
    }

    let changed = false;
    const cancelled = await deps.store.update(jobId, (current) => {
      changed = current.provider.jobName !== undefined || current.provider.createIntentTime !== intent;
      if (changed || !canTransition(current.state, 'CANCELLED')) {
        changed = true;
        return undefined;
      }
      return applyTransition(current, 'CANCELLED', {
        now: deps.clock(),
        project: deps.config.project,
        reason,
      });
    });
    if (!cancelled) throw notFound(jobId);
    if (changed) continue;
    logs.jobCancelRequested(deps.logger, jobId, request.by, cancelled.state);
    await publishAfterCommit(deps, jobId);
    return (await deps.store.get(jobId)) ?? cancelled;
  }
  throw new ApiError('ABORTED', `job ${jobId} kept changing while cancelling it; try again`);
}

async function cancelAtProvider(
  deps: ApiDeps,
  job: JobRecord,
  providerJobName: string,
  reason: string,
  by: string,
): Promise<JobRecord> {
  // Provider first: recording CANCELLING for a job the provider refused to stop would be a lie.
  await deps.provider.cancelJob(providerJobName);
  const updated = await deps.store.update(job.id, (current) => {
    if (!canTransition(current.state, 'CANCELLING')) return undefined;
    return applyTransition(current, 'CANCELLING', {
      now: deps.clock(),
      project: deps.config.project,
      reason,
      patch: { provider: { ...current.provider, jobName: current.provider.jobName ?? providerJobName } },
    });
  });
  if (!updated) throw notFound(job.id);
  logs.jobCancelRequested(deps.logger, job.id, by, updated.state, providerJobName);
  return updated;
}

/** Publishes the event just committed; a failure leaves it in the outbox for the poller's flush. */
async function publishAfterCommit(deps: ApiDeps, jobId: string): Promise<void> {
  try {
    await publishPending(deps.store, deps.publisher, jobId, deps.logger, { now: deps.clock });
  } catch (error) {
    logs.publishAfterCommitFailed(deps.logger, jobId, error);
  }
}
