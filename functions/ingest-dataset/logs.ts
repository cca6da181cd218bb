/** Every log line ingest-dataset writes, by name, so the wording and fields stay consistent. */
import type { FieldIssue } from '../../shared/jobs/manifest.ts';
import type { JobRecord } from '../../shared/jobs/model.ts';
import type { Logger } from '../../shared/logging/index.ts';
import type { IngestOutcome } from './ingest.ts';

export interface ObjectRef {
  bucket: string;
  object: string;
  generation: string;
}

export const logInvalidEvent = (logger: Logger, issues: string) =>
  logger.error('storage event data is malformed; acknowledged without action', { issues });

export const logUnexpectedEventType = (logger: Logger, type: string) =>
  logger.error('not a storage object finalized event; acknowledged without action (check the trigger)', {
    type,
  });

export const logIgnored = (logger: Logger, ref: ObjectRef, reason: string) =>
  logger.info(`ignored ${ref.object}: ${reason}`, { ...ref, reason, outcome: 'ignored' });

/**
 * The summary of one processed upload: `outcome` (job, rejected, waiting), `jobId`, the job's
 * `state`, and `uploadToJobMs` (object creation to now) when a job record was created by this event.
 */
export const logIngestFinished = (
  logger: Logger,
  ref: ObjectRef,
  outcome: IngestOutcome,
  uploadToJobMs: number | undefined,
) => {
  if (outcome.outcome === 'ignored' || outcome.outcome === 'too-old') return;
  const fields =
    outcome.outcome === 'job'
      ? {
          jobId: outcome.job.id,
          state: outcome.job.state,
          created: outcome.created,
          ...(outcome.created && uploadToJobMs !== undefined ? { uploadToJobMs } : {}),
        }
      : { jobId: outcome.jobId };
  logger.info(`ingest of ${ref.object} finished: ${outcome.outcome}`, {
    ...ref,
    outcome: outcome.outcome,
    ...fields,
  });
};

export const logEventTooOld = (logger: Logger, ref: ObjectRef, ageMs: number, maxAgeMs: number) =>
  logger.warn(`event for ${ref.object} is older than the retry cut-off; acknowledged without action`, {
    ...ref,
    ageMs,
    maxAgeMs,
  });

export const logPartOfManifest = (logger: Logger, ref: ObjectRef, manifest: string) =>
  logger.info(`ignored ${ref.object}: part of manifest ${manifest}`, { ...ref, manifest });

export const logManifestRetriggered = (logger: Logger, ref: ObjectRef, manifest: string) =>
  logger.info(`${ref.object} completes manifest ${manifest}; processing the manifest`, { ...ref, manifest });

export const logDuplicate = (logger: Logger, ref: ObjectRef, job: JobRecord) =>
  logger.info(`duplicate delivery for ${ref.object}; job ${job.id} already exists`, {
    ...ref,
    jobId: job.id,
    state: job.state,
  });

export const logWaiting = (logger: Logger, ref: ObjectRef, missing: string[]) =>
  logger.info(`manifest ${ref.object} waits for its datasets`, { ...ref, missing });

export const logRejected = (
  logger: Logger,
  ref: ObjectRef,
  jobId: string,
  errorCount: number,
  reportUri: string,
) =>
  logger.warn(`rejected ${ref.object}: ${errorCount} error(s), see ${reportUri}`, {
    ...ref,
    jobId,
    errorCount,
    reportUri,
  });

export const logSettingsInvalid = (logger: Logger, ref: ObjectRef, issues: FieldIssue[]) =>
  logger.warn(`settings of ${ref.object} are invalid`, { ...ref, issues });

export const logWarnings = (logger: Logger, ref: ObjectRef, warnings: string[]) => {
  for (const warning of warnings) logger.warn(warning, { ...ref });
};

export const logJobCreated = (logger: Logger, ref: ObjectRef, job: JobRecord) =>
  logger.info(`job ${job.id} created for ${ref.object} (${job.state})`, {
    ...ref,
    jobId: job.id,
    state: job.state,
    approvalRequired: job.approval.required,
    estimateUsd: job.estimate?.costUsd,
  });

export const logJobOutcome = (logger: Logger, ref: ObjectRef, job: JobRecord) =>
  logger.info(`job ${job.id} is ${job.state}`, {
    ...ref,
    jobId: job.id,
    state: job.state,
    providerJobName: job.provider.jobName,
    nextAttemptTime: job.nextAttemptTime,
  });

export const logTransientFailure = (logger: Logger, ref: ObjectRef, error: unknown, rule: string) =>
  logger.warn(`ingest of ${ref.object} failed transiently (${rule}); the event will be retried`, {
    ...ref,
    rule,
    error,
  });

export const logPermanentFailure = (logger: Logger, ref: ObjectRef, error: unknown, rule: string) =>
  logger.error(`ingest of ${ref.object} failed permanently (${rule}); reported and acknowledged`, {
    ...ref,
    rule,
    error,
  });

export const logProviderRefused = (logger: Logger, ref: ObjectRef, jobId: string, problems: number) =>
  logger.warn(`the provider refused the datasets of ${ref.object} at its own check`, {
    ...ref,
    jobId,
    problems,
  });

export const logDuplicateAfterProviderCheck = (
  logger: Logger,
  ref: ObjectRef,
  jobId: string,
  problems: readonly FieldIssue[],
) =>
  logger.info(`the provider check of ${ref.object} failed after its job was created; continuing`, {
    ...ref,
    jobId,
    problems: problems.map((problem) => problem.message),
  });

export const logProviderConfiguration = (
  logger: Logger,
  details: { jobId: string; provider: string; status: string; error: string },
) =>
  logger.error(
    `${details.provider} refused tunedrop's credentials (a configuration problem, not the upload); retried until IAM is fixed`,
    details,
  );
