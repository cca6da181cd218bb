/**
 * The Yandex AI Studio tuning client behind the TuningProvider contract.
 *
 * Datasets: prepareDatasets (at ingest, before any job exists) uploads the pinned, validated bytes
 * and waits for Yandex's Validate, so its row errors reach the report; createJob reuses those ids
 * (re-uploading by label only if one is gone). heldDatasets/deleteDataset let the poller free the
 * datasets of finished jobs (a folder holds about ten).
 *
 * createJob: TuningService.Tune (or CreateDraft + TuneDraft where the server implements them,
 * drafts.ts) with the record id in the task's labels (request.ts). Tune has no idempotency key, so
 * it is called once per attempt and never retried here; start-job records the intent first and,
 * after a crash, findJobByRecordId (task-listing.ts) lists the folder's tasks by label before any
 * re-tune. RESOURCE_EXHAUSTED (few runs per hour and day) is a 429: certainly not created, the job
 * waits QUEUED with backoff.
 *
 * Deployments: several tunedrop deployments may share one folder (staging and prod, two teams).
 * Every task and dataset carries this deployment's label (`tunedrop-deployment`), and every list,
 * lookup, draft search and dataset delete keeps to it, so one deployment never adopts, cancels,
 * tunes or frees another's. What an older tunedrop made (no deployment label) may be anyone's:
 * a task is seen only by a lookup of its record id (adopted by an interrupted start from before the
 * upgrade, rather than tuned again), a dataset is freed only when this deployment's record names
 * it; a record that names such a task follows it by name (getJob), so jobs in flight across the
 * upgrade finish normally.
 *
 * Jobs are read from tasks as job-mapping.ts describes. Describe answers NOT_FOUND for the first
 * seconds after Tune: getJob reports that as a 404, which a poll run in those seconds counts as one
 * failed reconciliation (far below the limit; the next run finds the task).
 */
import type { Logger } from '../../logging/index.ts';
import { isDatasetRowErrors, type PreparedDatasets, ProviderError, type TuningProvider } from '../types.ts';
import { createAuthorizationSource, type YandexAuth } from './auth.ts';
import {
  type DatasetRole,
  defaultChunkBytes,
  deleteDataset,
  ensureDataset,
  listHeldDatasets,
  readyDataset,
} from './datasets.ts';
import { deploymentScope } from './deployment-scope.ts';
import { DraftRpcsUnimplemented, draftProbe, tuneThroughDraft } from './drafts.ts';
import {
  createYandexChannel,
  createYandexClients,
  defaultYandexEndpoint,
  providerErrorFrom,
  retrying,
  sleep,
  type YandexClients,
} from './grpc.ts';
import {
  jobFromTuneOperation,
  type TuneOperation,
  taskIdOf,
  taskJobName,
  toProviderJob,
} from './job-mapping.ts';
import { toTuningRequest } from './request.ts';
import { findJobByRecordId, listJobs, ownDraft, type TaskListingContext } from './task-listing.ts';

// Also exported here, where they lived before request.ts and job-mapping.ts existed: code on
// other branches may still import them from client.ts.
export { statusName } from './job-mapping.ts';
export { baseModelUri, toTextToTextParams, toTuningRequest } from './request.ts';

export interface YandexProviderOptions {
  folderId: string;
  /**
   * This deployment's identity (config deploymentId), a valid label value: the value of
   * `tunedrop-deployment` on everything created, and the filter of everything listed or freed.
   */
  deploymentId: string;
  /** host:port; llm.api.cloud.yandex.net:443 by default. */
  endpoint?: string;
  /** Plaintext gRPC: only for the local emulator, and only when configured so explicitly. */
  plaintext?: boolean;
  auth: YandexAuth;
  /** Reads the bytes a spec's dataset URI names (the pinned, validated copy). */
  readDataset: (uri: string) => Promise<Buffer>;
  logger?: Logger;
  /** Single PUT up to this size, multipart above (Yandex SDK default 100 MiB). */
  chunkBytes?: number;
  /** How long createJob waits for Yandex's Validate before leaving it to the next attempt. */
  validationTimeoutMs?: number;
  pollIntervalMs?: number;
  fetch?: typeof globalThis.fetch;
  now?: () => number;
  /** Overrides the gRPC clients (tests). */
  clients?: YandexClients;
}

export type YandexProvider = TuningProvider & {
  readonly folderId: string;
  /** True when the server parsed a draft RPC (drafts.ts); only UNIMPLEMENTED is remembered. */
  draftRpcsAvailable(): Promise<boolean>;
  close(): void;
};

export function createYandexProvider(options: YandexProviderOptions): YandexProvider {
  const { folderId, deploymentId, logger } = options;
  const channel = options.clients
    ? undefined
    : createYandexChannel({
        endpoint: options.endpoint ?? defaultYandexEndpoint,
        plaintext: options.plaintext ?? false,
      });
  const clients =
    options.clients ??
    createYandexClients(
      channel as NonNullable<typeof channel>,
      createAuthorizationSource(options.auth, { ...(options.fetch ? { fetch: options.fetch } : {}) }),
    );
  const now = options.now ?? Date.now;
  const doFetch = options.fetch ?? globalThis.fetch;
  const nameOf = (taskId: string) => taskJobName(folderId, taskId);
  const scope = deploymentScope(deploymentId, nameOf, logger);
  const draftRpcsAvailable = draftProbe(clients, logger);
  const listing: TaskListingContext = { clients, nameOf, logger, folderId, scope, now };

  /** The id of a READY dataset with this record's bytes for a role (datasets.ts). */
  function ensure(uri: string, recordId: string, role: DatasetRole): Promise<string> {
    return ensureDataset({
      clients,
      folderId,
      deploymentId,
      recordId,
      role,
      bytes: () => options.readDataset(uri),
      chunkBytes: options.chunkBytes ?? defaultChunkBytes,
      validationTimeoutMs: options.validationTimeoutMs ?? 5 * 60_000,
      pollIntervalMs: options.pollIntervalMs ?? 2_000,
      fetch: doFetch,
      now,
      sleep,
      ...(logger ? { logger } : {}),
    });
  }

  /** Best effort: what is left behind, the poller frees later (heldDatasets). */
  async function deleteQuietly(datasetId: string): Promise<void> {
    await deleteDataset(clients, datasetId).catch((error: unknown) =>
      logger?.warn('yandex dataset not deleted; the poller retries', { datasetId, error }),
    );
  }

  return {
    name: 'yandex',
    folderId,

    async prepareDatasets(spec, recordId) {
      const train = await ensure(spec.trainingDatasetUri, recordId, 'train');
      const validationUri = spec.validationDatasetUri;
      try {
        const validation = validationUri ? await ensure(validationUri, recordId, 'validation') : undefined;
        return { train, ...(validation ? { validation } : {}) };
      } catch (error) {
        // Validate refused the rows: the training dataset is of no use without its job. Any other
        // failure (a duplicate delivery's race, a deployment problem) may still end in a job that
        // needs it; the poller frees what no job holds.
        if (error instanceof ProviderError && !error.transient && error.details.some(isDatasetRowErrors))
          await deleteQuietly(train);
        throw error;
      }
    },

    heldDatasets: () => retrying('DatasetService.List', () => listHeldDatasets(clients, folderId)),

    async deleteDataset(dataset, deleteOptions) {
      // The sweep keeps to its deployment (dataset-sweep.ts); checked here as well, since a
      // delete cannot be undone and may fail another deployment's live job or draft.
      scope.checkDeletable(dataset, deleteOptions);
      await deleteDataset(clients, dataset.id);
      logger?.info('yandex dataset deleted', { datasetId: dataset.id, recordId: dataset.recordId });
    },

    async createJob(spec, recordId, context) {
      // Datasets prepared at ingest are reused while READY; otherwise found or uploaded by label.
      const reuse = async (id: string | undefined, uri: string, role: DatasetRole) =>
        (id ? await readyDataset(clients, id) : undefined) ?? ensure(uri, recordId, role);
      const prepared: PreparedDatasets | undefined = context?.datasets;
      const train = await reuse(prepared?.train, spec.trainingDatasetUri, 'train');
      const validationUri = spec.validationDatasetUri;
      const validation = validationUri
        ? await reuse(prepared?.validation, validationUri, 'validation')
        : undefined;
      const request = toTuningRequest(
        spec,
        recordId,
        folderId,
        { train, ...(validation ? { validation } : {}) },
        deploymentId,
      );
      let operation: TuneOperation | undefined;
      if (await draftRpcsAvailable()) {
        const left = await ownDraft(listing, recordId);
        try {
          operation = await tuneThroughDraft(clients, request, left);
        } catch (error) {
          if (!(error instanceof DraftRpcsUnimplemented)) throw error;
          // The probe was wrong (or the server changed): nothing was created, Tune instead.
          draftRpcsAvailable.markUnavailable();
        }
      }
      if (!operation) {
        try {
          // Deliberately one attempt: a retried Tune can start (and bill) a second task.
          operation = await clients.tuning.tune(request, { retry: false });
        } catch (error) {
          throw providerErrorFrom(error, 'TuningService.Tune');
        }
      }
      const job = jobFromTuneOperation(operation, request.labels, nameOf, now);
      logger?.info('yandex tuning task created', { recordId, jobName: job.name, operationId: operation.id });
      return job;
    },

    async getJob(name) {
      const tuningTaskId = taskIdOf(name);
      const { tuningTask: task } = await retrying('TuningService.Describe', () =>
        clients.tuning.describe({ tuningTaskId }),
      );
      if (!task)
        throw new ProviderError(`TuningService.Describe: no task ${tuningTaskId}`, 404, 'NOT_FOUND', false);
      return toProviderJob(listing, task);
    },

    listJobs: (list) => listJobs(listing, list),

    findJobByRecordId: (recordId) => findJobByRecordId(listing, recordId),

    async cancelJob(name) {
      const tuningTaskId = taskIdOf(name);
      await retrying('TuningService.Cancel', () => clients.tuning.cancel({ tuningTaskId }));
    },

    draftRpcsAvailable,

    close() {
      channel?.close();
    },
  };
}
