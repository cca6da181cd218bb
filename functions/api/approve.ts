/**
 * Approving a DRAFT (like Yandex's TuneDraft): record who approved and when, in a transaction that
 * only touches a DRAFT, then start it through startJob, whose claim protocol makes the provider
 * job exactly once even when approvals race or one is retried after a crash.
 */
import type { JobRecord } from '../../shared/jobs/index.ts';
import { startJob } from '../../shared/jobs/start-job.ts';
import type { ApiDeps } from './deps.ts';
import { ApiError } from './errors.ts';
import { logs } from './logs.ts';

export async function approveJob(deps: ApiDeps, jobId: string, approvedBy: string): Promise<JobRecord> {
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
  const started = await startJob(
    {
      store: deps.store,
      provider: deps.provider,
      publisher: deps.publisher,
      logger: deps.logger,
      now: deps.clock,
      project: deps.config.project,
    },
    jobId,
  );
  logs.jobApproved(deps.logger, jobId, started.approval.approvedBy ?? approvedBy, started.state);
  return started;
}
