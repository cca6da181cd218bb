/**
 * Frees the datasets a provider holds for tunedrop (Yandex: uploaded at ingest, and a folder
 * holds only about ten) once nothing needs them: the record is terminal (SUCCEEDED, FAILED,
 * CANCELLED, EXPIRED: a finished job, a cancelled or expired draft), or there is no record and the
 * dataset is older than the grace period (refused by Validate, or an ingest that never finished;
 * a younger one may belong to an ingest still running: the grace outlasts ingest's retries, event
 * max age + function timeout). A dataset without a creation time cannot be shown old enough: it is
 * kept (an operator deletes it) and logged once per process. One sweep per poll run, after the events:
 * it never delays a job's event, a failed delete is logged once per dataset and retried by the
 * next run, and a dataset already gone is what was wanted.
 */
import { isTerminal, type JobStore } from '../../shared/jobs/index.ts';
import type { Logger } from '../../shared/logging/index.ts';
import type { HeldDataset, TuningProvider } from '../../shared/providers/index.ts';

export interface SweepDeps {
  provider: TuningProvider;
  store: Pick<JobStore, 'get'>;
  logger: Logger;
  clock: () => Date;
  /** A dataset with no record is kept this long (an ingest may be creating its record). */
  orphanGraceMs: number;
  /**
   * Dataset ids whose failed delete, or whose keeping for want of a creation time (`undated:<id>`),
   * was logged already (per process): logged once.
   */
  failuresLogged: Set<string>;
}

export interface SweepResult {
  held: number;
  deleted: number;
  failed: number;
}

/** Whether a dataset is still needed: its record is live, or it may be an ingest in progress. */
async function needed(deps: SweepDeps, dataset: HeldDataset): Promise<boolean> {
  const record = await deps.store.get(dataset.recordId);
  if (record) return !isTerminal(record.state);
  const created = dataset.createTime ? Date.parse(dataset.createTime) : Number.NaN;
  if (Number.isNaN(created)) {
    const key = `undated:${dataset.id}`;
    if (!deps.failuresLogged.has(key)) {
      deps.failuresLogged.add(key);
      deps.logger.warn(
        'a provider dataset without a job record has no creation time; kept (delete it by hand if unused)',
        {
          provider: dataset.provider,
          datasetId: dataset.id,
          jobId: dataset.recordId,
        },
      );
    }
    return true;
  }
  return deps.clock().getTime() - created < deps.orphanGraceMs;
}

export async function sweepDatasets(deps: SweepDeps): Promise<SweepResult | undefined> {
  const { provider, logger } = deps;
  if (!provider.heldDatasets || !provider.deleteDataset) return undefined;
  const result: SweepResult = { held: 0, deleted: 0, failed: 0 };
  let held: HeldDataset[];
  try {
    held = await provider.heldDatasets();
  } catch (error) {
    logger.warn('listing the datasets the provider holds failed; the next run retries', { error });
    result.failed++;
    return result;
  }
  result.held = held.length;
  for (const dataset of held) {
    try {
      if (await needed(deps, dataset)) continue;
      await provider.deleteDataset(dataset);
      result.deleted++;
      deps.failuresLogged.delete(dataset.id);
    } catch (error) {
      result.failed++;
      if (!deps.failuresLogged.has(dataset.id)) {
        deps.failuresLogged.add(dataset.id);
        logger.warn('deleting a dataset the provider holds failed; the next runs retry', {
          provider: dataset.provider,
          datasetId: dataset.id,
          jobId: dataset.recordId,
          error,
        });
      }
    }
  }
  if (result.deleted > 0) logger.info('provider datasets freed', { ...result });
  return result;
}
