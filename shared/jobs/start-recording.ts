/**
 * Step 3 of a start (startJob in start-job.ts): record the provider job on the record and move it
 * to PENDING (`job.started`) in one write, whether this caller created it or a label lookup found
 * it (adopt).
 *
 * Lookups list EVERY job carrying the label (duplicates.ts): if a lagging list made an earlier
 * attempt create a second job, the oldest is kept and the others are cancelled, with a line in
 * the record's history and an ERROR log.
 *
 * A record that disappears (deleted) while it is being started stops the start with a
 * PermanentError; a provider job created for it meanwhile is cancelled (no record would track it).
 * A record that ended meanwhile (e.g. cancelled by the API) keeps its outcome; the job is cancelled.
 */
import { PermanentError } from '../errors/index.ts';
import { applyTransition } from '../events/index.ts';
import type { ProviderJob } from '../providers/types.ts';
import { cancelDuplicates, oldestFirst, settleDuplicates } from './duplicates.ts';
import { isTerminal, type JobRecord } from './model.ts';
import { type StartJobDeps, withoutNextAttempt } from './start-policy.ts';
import { canTransition } from './state-machine.ts';

/** Records the provider job on the record and moves it to PENDING (`job.started`). */
export async function recordProviderJob(
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

/**
 * Adopts what a label lookup found: the oldest job is recorded, any others are cancelled as
 * duplicates. `inFlight`: the intent is recent, so another caller is most likely recording it too.
 */
export async function adopt(
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
    return recordProviderJob(
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
  return recordProviderJob(
    deps,
    jobId,
    oldest,
    'adopted the provider job of an interrupted start',
    flush,
    duplicates,
  );
}
