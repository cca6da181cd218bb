/** The API's log lines, named, so each message and its fields are written in one place. */
import type { Logger } from '../../shared/logging/index.ts';

export const logs = {
  requestFailed: (logger: Logger, method: string, path: string, error: unknown) =>
    logger.error('api request failed', { method, path, error }),
  providerUnavailable: (logger: Logger, method: string, path: string, error: unknown) =>
    logger.warn('api request failed: provider unavailable', { method, path, error }),
  jobApproved: (logger: Logger, jobId: string, approvedBy: string, state: string) =>
    logger.log('NOTICE', 'job approved', { jobId, approvedBy, state, outcome: 'approved' }),
  jobCancelRequested: (logger: Logger, jobId: string, by: string, state: string, providerJobName?: string) =>
    logger.log('NOTICE', 'job cancel requested', {
      jobId,
      by,
      state,
      providerJobName,
      outcome: 'cancel-requested',
    }),
  eventsReplayed: (logger: Logger, jobId: string, eventIds: string[]) =>
    logger.log('NOTICE', 'job events replayed', { jobId, eventIds, outcome: 'replayed' }),
  publishAfterCommitFailed: (logger: Logger, jobId: string, error: unknown) =>
    logger.warn('publishing after a state change failed; the poller flushes the outbox later', {
      jobId,
      error,
    }),
};
