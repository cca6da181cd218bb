/** What the job operations say about an id that is a rejected upload rather than a job. */
import type { ApiDeps } from './deps.ts';
import { ApiError } from './errors.ts';

/**
 * The error for an id the job store does not hold: 409 when it is a REJECTED upload (there is
 * nothing to approve or cancel: it never became a job), 404 otherwise.
 */
export async function missingJobError(deps: ApiDeps, jobId: string, action: string): Promise<ApiError> {
  const rejection = await deps.rejections.get(jobId);
  if (!rejection) return new ApiError('NOT_FOUND', `job ${jobId} not found`);
  return new ApiError(
    'FAILED_PRECONDITION',
    `${jobId} is a REJECTED upload (${rejection.source.object}): it failed validation and never became a job, so there is nothing to ${action}; see ${rejection.validation.reportUri}, fix the dataset and upload it again`,
  );
}
