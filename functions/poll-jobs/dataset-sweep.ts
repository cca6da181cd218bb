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
 *
 * Only this deployment's datasets (its deployment label) are considered: several deployments may
 * share a provider folder, and to each the other's records are missing, so their live jobs' and
 * drafts' datasets would look orphaned. A dataset without a deployment label (made by an older
 * tunedrop) may be anyone's: it is freed only when one of this deployment's records names it, and
 * otherwise kept and logged once per process with what to do.
 */
import { isTerminal, type JobStore } from '../../shared/jobs/index.ts';
import type { Logger } from '../../shared/logging/index.ts';
import { deploymentLabel, type HeldDataset, type TuningProvider } from '../../shared/providers/index.ts';

/** In `failuresLogged` once the unlabelled datasets no record here names were logged. */
const unlabelledMarker = 'unlabelled';

export interface SweepDeps {
  provider: TuningProvider;
  store: Pick<JobStore, 'get'>;
  logger: Logger;
  clock: () => Date;
  /** This deployment's identity (config deploymentId): only datasets labelled with it are freed. */
  deploymentId: string;
  /** A dataset with no record is kept this long (an ingest may be creating its record). */
  orphanGraceMs: number;
  /**
   * Dataset ids whose failed delete, or whose keeping for want of a creation time (`undated:<id>`),
   * was logged already (per process): logged once; `unlabelledMarker` once the datasets no
   * deployment claims were.
   */
  failuresLogged: Set<string>;
}

export interface SweepResult {
  /** This deployment's datasets. */
  held: number;
  deleted: number;
  failed: number;
}

/** A dataset this deployment may free, and whether it is proven so by a record naming it. */
interface OwnDataset {
  dataset: HeldDataset;
  namedByOwnRecord: boolean;
}

/** Whether one of this deployment's records names the dataset (ingest recorded its id). */
async function namedByOwnRecord(deps: SweepDeps, dataset: HeldDataset): Promise<boolean> {
  const datasets = (await deps.store.get(dataset.recordId))?.provider.datasets;
  return datasets?.train === dataset.id || datasets?.validation === dataset.id;
}

/**
 * This deployment's datasets: labelled with its id, or made before the label and named by one of
 * its records (so an upgrade does not leak the datasets of the jobs it had). Logs (once per
 * process) the unlabelled ones no record here names: they may be another deployment's.
 */
export async function ownDatasets(deps: SweepDeps, listed: readonly HeldDataset[]): Promise<OwnDataset[]> {
  const own: OwnDataset[] = [];
  const unclaimed: HeldDataset[] = [];
  for (const dataset of listed) {
    if (dataset.deployment === deps.deploymentId) own.push({ dataset, namedByOwnRecord: false });
    else if (dataset.deployment !== undefined) continue;
    else if (await namedByOwnRecord(deps, dataset)) own.push({ dataset, namedByOwnRecord: true });
    else unclaimed.push(dataset);
  }
  if (unclaimed.length > 0 && !deps.failuresLogged.has(unlabelledMarker)) {
    deps.failuresLogged.add(unlabelledMarker);
    deps.logger.warn(
      `provider datasets without the ${deploymentLabel} label (made by an older tunedrop) and named by no record here are kept: they may be another deployment's. ` +
        `Label this deployment's ${deploymentLabel}=${deps.deploymentId} to let it free them, or delete them by hand once no job needs them`,
      {
        deploymentId: deps.deploymentId,
        count: unclaimed.length,
        datasets: unclaimed.slice(0, 20).map((dataset) => ({
          provider: dataset.provider,
          datasetId: dataset.id,
          jobId: dataset.recordId,
        })),
      },
    );
  }
  return own;
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

/** Each record read once per sweep: a record's datasets (train, validation) and checks share it. */
function readingOnce(store: SweepDeps['store']): SweepDeps['store'] {
  const reads = new Map<string, ReturnType<SweepDeps['store']['get']>>();
  return {
    get(id) {
      let read = reads.get(id);
      if (!read) {
        read = store.get(id);
        reads.set(id, read);
      }
      return read;
    },
  };
}

export async function sweepDatasets(sweepDeps: SweepDeps): Promise<SweepResult | undefined> {
  const deps = { ...sweepDeps, store: readingOnce(sweepDeps.store) };
  const { provider, logger } = deps;
  if (!provider.heldDatasets || !provider.deleteDataset) return undefined;
  const result: SweepResult = { held: 0, deleted: 0, failed: 0 };
  let held: OwnDataset[];
  try {
    // Another deployment's are its own to free; its records are not in this store.
    held = await ownDatasets(deps, await provider.heldDatasets());
  } catch (error) {
    logger.warn('reading the datasets the provider holds failed; the next run retries', { error });
    result.failed++;
    return result;
  }
  result.held = held.length;
  for (const { dataset, namedByOwnRecord } of held) {
    try {
      if (await needed(deps, dataset)) continue;
      await provider.deleteDataset(dataset, { namedByOwnRecord });
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
