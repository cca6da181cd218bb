/**
 * Approving a DRAFT (like Yandex's TuneDraft): record who approved and when, in a write that
 * only touches a DRAFT, then start it through startJob, whose claim protocol makes the provider
 * job exactly once even when approvals race or one is retried after a crash.
 *
 * A draft trains on tunedrop's pinned copy of the validated generation (`validation.pinned`), so
 * a later upload over the user's file changes nothing and approval goes ahead. Only a record from
 * before pinning trains on the user's object as it is at approval time: for such a single-file
 * draft the object must still be the validated generation, or approval is refused.
 */
import type { JobRecord } from '../../shared/jobs/index.ts';
import { startDepsFrom, startJob } from '../../shared/jobs/start-job.ts';
import type { ApiDeps } from './deps.ts';
import { ApiError } from './errors.ts';
import { logs } from './logs.ts';
import { missingJobError } from './rejected.ts';

/** Refuses a single-file draft whose dataset object is no longer the validated generation. */
async function checkDatasetUnchanged(deps: ApiDeps, job: JobRecord): Promise<void> {
  if (job.state !== 'DRAFT' || job.source.manifest || job.validation.pinned) return;
  const { bucket, object, generation: validated } = job.source;
  const current = await deps.blobs.stat(bucket, object);
  if (current?.generation === validated) return;
  throw new ApiError(
    'FAILED_PRECONDITION',
    current
      ? `the dataset was replaced after validation (generation ${current.generation}, validated ${validated}); upload it again`
      : `the dataset was deleted after validation (validated generation ${validated}); upload it again`,
  );
}

export async function approveJob(deps: ApiDeps, jobId: string, approvedBy: string): Promise<JobRecord> {
  const existing = await deps.store.get(jobId);
  if (!existing) throw await missingJobError(deps, jobId, 'approve');
  await checkDatasetUnchanged(deps, existing);
  let refusedState: string | undefined;
  const approved = await deps.store.update(jobId, (job) => {
    refusedState = undefined;
    if (job.state !== 'DRAFT') {
      refusedState = job.state;
      return undefined;
    }
    // Approved already, but not started (a crash, or a concurrent approval): start it, keep the first approver.
    if (job.approval.approveTime) return undefined;
    const now = deps.clock().toISOString();
    return { ...job, approval: { ...job.approval, approvedBy, approveTime: now }, updateTime: now };
  });
  if (!approved) throw new ApiError('NOT_FOUND', `job ${jobId} not found`);
  if (refusedState) {
    throw new ApiError(
      'FAILED_PRECONDITION',
      `job ${jobId} is ${refusedState}; only a DRAFT job can be approved`,
    );
  }
  const started = await startJob(startDepsFrom(deps), jobId);
  logs.jobApproved(deps.logger, jobId, started.approval.approvedBy ?? approvedBy, started.state);
  return started;
}
