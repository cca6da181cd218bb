/**
 * Every line poll-jobs writes, by name, so the log is searchable and its fields stay stable.
 * One `poll run finished` line per run carries the summary, including how many Vertex calls it made.
 */
import type { JobState } from '../../shared/jobs/index.ts';
import type { Logger } from '../../shared/logging/index.ts';
import type { PollSummary } from './poll.ts';

export const logs = {
  runSkipped: (logger: Logger) =>
    logger.info('poll run skipped: poll in progress (another run holds the lease)'),

  runFailed: (logger: Logger, error: unknown) =>
    logger.error('poll run failed', { error, outcome: 'failed' }),

  leaseReleaseFailed: (logger: Logger, error: unknown) =>
    logger.warn('releasing the poll lease failed; the next run waits for it to expire', { error }),

  // `outcome` (ok, errors, failed) is what the poll-failure alert counts (terraform/monitoring.tf).
  runFinished: (logger: Logger, summary: PollSummary, durationMs: number) =>
    logger.log(summary.errors > 0 ? 'WARNING' : 'INFO', 'poll run finished', {
      ...summary,
      durationMs,
      outcome: summary.errors > 0 || summary.pending > 0 ? 'errors' : 'ok',
    }),

  listFailed: (logger: Logger, error: unknown, vertexCalls: number) =>
    logger.error('listing provider jobs failed; no job was refreshed this run', { error, vertexCalls }),

  jobTransitioned: (logger: Logger, jobId: string, from: JobState, to: JobState, providerState?: string) =>
    logger.info('job state changed', { jobId, from, to, state: to, providerState, outcome: 'state-changed' }),

  jobAdopted: (logger: Logger, jobId: string, providerJobName: string) =>
    logger.warn(
      'adopted a provider job whose name was never recorded (crash between create and record update)',
      {
        jobId,
        providerJobName,
      },
    ),

  draftExpired: (logger: Logger, jobId: string, reason: string) =>
    logger.info('draft expired without approval', { jobId, reason }),

  jobStalled: (logger: Logger, jobId: string, state: JobState, stateTime: string) =>
    logger.warn('job stalled: no state change within the stall timeout', {
      jobId,
      state,
      stateTime,
      outcome: 'stalled',
    }),

  illegalReport: (logger: Logger, jobId: string, from: JobState, reported: JobState) =>
    logger.error('provider reported a state the lifecycle forbids from the current one; ignored', {
      jobId,
      from,
      reported,
    }),

  providerJobMissing: (logger: Logger, jobId: string, providerJobName: string) =>
    logger.warn('a provider job named in a record was not in the list; left unchanged', {
      jobId,
      providerJobName,
    }),

  namedJobsFetched: (
    logger: Logger,
    counts: { listMode: string; pages: number; missing: number; lookedUp: number; leftOver: number },
  ) =>
    logger.log(
      counts.leftOver > 0 ? 'WARNING' : 'INFO',
      'named provider jobs missing from the list pages read were looked up by name',
      counts,
    ),

  jobFetchFailed: (logger: Logger, jobId: string, providerJobName: string, error: unknown) =>
    logger.error('looking up a provider job by name failed; it is retried next run', {
      jobId,
      providerJobName,
      error,
    }),

  duplicateProviderJobs: (logger: Logger, jobId: string, names: string[]) =>
    logger.error('several provider jobs carry the same record label; tracking the recorded (or oldest) one', {
      jobId,
      names,
    }),

  recoveryFailed: (logger: Logger, jobId: string, attempts: number, reason: string) =>
    logger.warn('a job could not be reconciled with the provider; counted', { jobId, attempts, reason }),

  recoveryGaveUp: (logger: Logger, jobId: string, attempts: number, reason: string) =>
    logger.error('gave up reconciling a job with the provider: job.stalled sent, no more retries', {
      jobId,
      attempts,
      reason,
    }),

  jobUpdateFailed: (logger: Logger, jobId: string, error: unknown) =>
    logger.error('refreshing a job failed; it is retried next run', { jobId, error }),

  /** `queuedSeconds`: how long the job has waited in its current state (QUEUED) for the provider. */
  startDeferred: (
    logger: Logger,
    jobId: string,
    nextAttemptTime: string | undefined,
    queuedSeconds?: number,
  ) =>
    logger.info('starting a queued job was deferred by the provider; starting no more this run', {
      jobId,
      nextAttemptTime,
      queuedSeconds,
      outcome: 'start-deferred',
    }),

  startFailed: (logger: Logger, jobId: string, error: unknown) =>
    logger.error('starting a queued job failed; it is retried next run', { jobId, error }),

  capacityFull: (logger: Logger, waiting: number, active: number, maxConcurrentJobs: number) =>
    logger.info('queued jobs wait for capacity', { waiting, active, maxConcurrentJobs }),
};
