/**
 * The Yandex AI Studio tuning client behind the TuningProvider contract.
 *
 * Datasets: prepareDatasets (at ingest, before any job exists) uploads the pinned, validated bytes
 * and waits for Yandex's Validate, so its row errors reach the report; createJob reuses those ids
 * (re-uploading by label only if one is gone). heldDatasets/deleteDataset let the poller free the
 * datasets of finished jobs (a folder holds about ten).
 *
 * createJob: TuningService.Tune (or CreateDraft + TuneDraft where the server implements them,
 * drafts.ts) with the record id in the task's labels. Tune has no idempotency key, so it is called once per attempt and never
 * retried here; start-job records the intent first and, after a crash, findJobByRecordId lists the
 * folder's tasks by label before any re-tune. RESOURCE_EXHAUSTED (few runs per hour and day) is a
 * 429: certainly not created, the job waits QUEUED with backoff.
 *
 * Deployments: several tunedrop deployments may share one folder (staging and prod, two teams).
 * Every task and dataset carries this deployment's label (`tunedrop-deployment`), and every list,
 * lookup, draft search and dataset delete keeps to it, so one deployment never adopts, cancels,
 * tunes or frees another's. What an older tunedrop made (no deployment label) may be anyone's:
 * it is never listed, adopted or deleted, only logged once per process; a record that names such a
 * task still follows it by name (getJob), so jobs in flight across the upgrade finish normally.
 *
 * A job's name is `folders/<folder>/tuningTasks/<task id>`. Status comes from Describe (the task:
 * status, labels, target model); steps from the task's Operation (TuningMetadata current/total
 * steps); a failure's reason from ListErrors. Describe answers NOT_FOUND for the first seconds
 * after Tune: getJob reports that as a 404, which the poller treats as "not visible yet".
 */
import { tuningService, tuningTask } from '@yandex-cloud/nodejs-sdk/ai-tuning-v1';
import { jobIdLabel, type TuningSpec } from '../../jobs/model.ts';
import type { YandexTuningParams } from '../../jobs/yandex-params.ts';
import type { Logger } from '../../logging/index.ts';
import {
  deploymentLabel,
  isDatasetRowErrors,
  type JobPage,
  type ListJobsOptions,
  type PreparedDatasets,
  ProviderError,
  type ProviderJob,
  type TuningProvider,
} from '../types.ts';
import { managedLabel, maxListPageSize } from '../vertex/client.ts';
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
import { DraftRpcsUnimplemented, draftProbe, isDraftTask, tuneThroughDraft } from './drafts.ts';
import {
  createYandexChannel,
  createYandexClients,
  defaultYandexEndpoint,
  providerErrorFrom,
  type YandexClients,
} from './grpc.ts';
import { yandexToJobState } from './states.ts';

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

const namePattern = /^folders\/([^/]+)\/tuningTasks\/([^/]+)$/;

/** `gpt://<folder>/<model>/latest` for a catalog name; a full gpt:// URI is used as given. */
export function baseModelUri(baseModel: string, folderId: string): string {
  if (/^[a-z]+:\/\//.test(baseModel)) return baseModel;
  const [model, version] = baseModel.split('/');
  return `gpt://${folderId}/${model}/${version ?? 'latest'}`;
}

/** Yandex task names allow `[A-Za-z0-9 _-]{3,100}`; anything else becomes '-'. */
function taskName(spec: TuningSpec, recordId: string): string {
  const raw = spec.tunedModelDisplayName ?? `tunedrop ${recordId}`;
  const cleaned = raw.replace(/[^A-Za-z0-9 _-]/g, '-').slice(0, 100);
  return cleaned.length >= 3 ? cleaned : `tunedrop ${recordId}`;
}

export function toTextToTextParams(params: YandexTuningParams | undefined) {
  const p = params ?? {};
  return tuningService.TextToTextCompletionTuningParams.fromPartial({
    ...(p.seed !== undefined ? { seed: p.seed } : {}),
    ...(p.lr !== undefined ? { lr: p.lr } : {}),
    ...(p.nSamples !== undefined ? { nSamples: p.nSamples } : {}),
    ...(p.additionalArguments !== undefined ? { additionalArguments: p.additionalArguments } : {}),
    ...(p.lora ? { lora: p.lora } : {}),
    ...(p.promptTune ? { promptTune: p.promptTune } : {}),
    ...(p.scheduler ? { scheduler: p.scheduler } : {}),
    ...(p.optimizer ? { optimizer: p.optimizer } : {}),
  });
}

/** The Tune request for a spec; tunedrop's labels are merged over the user's. */
export function toTuningRequest(
  spec: TuningSpec,
  recordId: string,
  folderId: string,
  datasets: { train: string; validation?: string },
  deploymentId: string,
) {
  return tuningService.TuningRequest.fromPartial({
    baseModelUri: baseModelUri(spec.baseModel, folderId),
    trainDatasets: [{ datasetId: datasets.train, weight: 1 }],
    ...(datasets.validation ? { validationDataset: { datasetId: datasets.validation, weight: 1 } } : {}),
    textToTextCompletion: toTextToTextParams(spec.yandex),
    name: taskName(spec, recordId),
    description: spec.description ?? '',
    labels: {
      ...spec.labels,
      [jobIdLabel]: recordId,
      [managedLabel]: 'true',
      [deploymentLabel]: deploymentId,
    },
  });
}

export const statusName = (status: tuningTask.TuningTask_Status): string =>
  tuningTask.TuningTask_Status[status] ?? 'STATUS_UNSPECIFIED';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** How long after a task finished a list still fetches its steps and errors. */
const detailWindowMs = 24 * 60 * 60_000;

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
  const nameOf = (taskId: string) => `folders/${folderId}/tuningTasks/${taskId}`;
  const scope = deploymentScope(deploymentId, nameOf, logger);
  const draftRpcsAvailable = draftProbe(clients, logger);

  function taskIdOf(name: string): string {
    const match = namePattern.exec(name);
    if (!match?.[2])
      throw new ProviderError(`not a Yandex tuning task name: ${name}`, 400, 'INVALID_ARGUMENT', false);
    return match[2];
  }

  /** Safe to repeat: a few attempts with jitter on transient errors. */
  async function retrying<T>(what: string, call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (raw) {
        const error = providerErrorFrom(raw, what);
        if (!error.transient || attempt >= 3) throw error;
        await sleep(Math.random() * 250 * 2 ** (attempt - 1));
      }
    }
  }

  /**
   * A task as tunedrop sees it: steps from its Operation, a failure's reason from ListErrors.
   * `detailed` false skips those two calls (a list of long-finished tasks needs neither).
   */
  async function toProviderJob(task: tuningTask.TuningTask, detailed = true): Promise<ProviderJob> {
    const providerState = statusName(task.status);
    const job: ProviderJob = {
      name: nameOf(task.taskId),
      providerState,
      state: yandexToJobState(providerState),
      labels: task.labels,
    };
    if (task.createdAt) job.createTime = task.createdAt.toISOString();
    const updated = task.finishedAt ?? task.startedAt;
    if (updated) job.updateTime = updated.toISOString();
    if (task.targetModelUri) job.result = { tunedModel: task.targetModelUri };
    if (!detailed) return job;
    const operationId = task.operationId || task.taskId;
    try {
      const operation = await clients.operations.get({ operationId });
      if (operation.metadata?.value?.length) {
        const metadata = tuningService.TuningMetadata.decode(operation.metadata.value);
        if (metadata.totalSteps > 0) {
          job.progress = { totalSteps: metadata.totalSteps, currentStep: metadata.currentStep };
        }
      }
      if (operation.error && job.state === 'FAILED')
        job.error = { code: operation.error.code, message: operation.error.message };
    } catch (error) {
      logger?.debug('yandex operation not readable; no progress this time', { operationId, error });
    }
    if (job.state === 'FAILED') {
      try {
        const { tuningError } = await clients.tuning.listErrors({ tuningTaskId: task.taskId });
        const messages = tuningError.map((error) => error.message).filter(Boolean);
        if (messages.length) job.error = { code: job.error?.code ?? 'FAILED', message: messages.join('; ') };
      } catch (error) {
        logger?.warn('yandex ListErrors failed', { taskId: task.taskId, error });
      }
      job.error ??= { code: 'FAILED', message: 'the tuning task failed (Yandex gave no reason)' };
    }
    return job;
  }

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

  /** This record's task still in DRAFT (an interrupted CreateDraft + TuneDraft), if any. */
  async function ownDraft(recordId: string): Promise<string | undefined> {
    let pageToken = '';
    do {
      const page = await retrying('TuningService.List', () =>
        clients.tuning.list(
          tuningService.ListTuningsRequest.fromPartial({ folderId, pageSize: maxListPageSize, pageToken }),
        ),
      );
      // Only this deployment's: another's draft of the same record id (same bucket object) is its
      // own to tune.
      const draft = page.tuningTasks.find(
        (task) => isDraftTask(task) && scope.ours(task.labels) && task.labels[jobIdLabel] === recordId,
      );
      if (draft) return draft.taskId;
      pageToken = page.nextPageToken;
    } while (pageToken);
    return undefined;
  }

  async function listJobs(list: ListJobsOptions = {}): Promise<JobPage> {
    const labels = Object.entries(list.labels ?? {});
    const createdAfter = list.createdAfter ? Date.parse(list.createdAfter) : undefined;
    const page = await retrying('TuningService.List', () =>
      clients.tuning.list(
        tuningService.ListTuningsRequest.fromPartial({
          folderId,
          pageSize: list.pageSize ?? maxListPageSize,
          pageToken: list.pageToken ?? '',
        }),
      ),
    );
    // List filters only by status; labels, states and the creation time are checked here. A DRAFT
    // (left by an interrupted CreateDraft + TuneDraft) was never started and is createJob's to
    // tune: a poller adopting it as a record's job would never start it, or would track it
    // instead of the billed task. Another deployment's task (or one of an older tunedrop, which may
    // be anyone's) is never listed: the poller would not track it, but startJob would adopt it,
    // or cancel it as a duplicate, if a record id matched (two deployments on one bucket).
    scope.noteUnlabelled(page.tuningTasks);
    const wanted = page.tuningTasks.filter(
      (task) =>
        !isDraftTask(task) &&
        scope.ours(task.labels) &&
        labels.every(([key, value]) => task.labels[key] === value) &&
        (!list.states || list.states.includes(yandexToJobState(statusName(task.status)))) &&
        (createdAfter === undefined || !task.createdAt || task.createdAt.getTime() >= createdAfter),
    );
    const jobs: ProviderJob[] = [];
    // The poller lists every managed task on each run: only tasks still running, or finished in
    // the last day (whose record may not know it yet), cost the Operation and ListErrors calls.
    const recent = now() - detailWindowMs;
    for (const task of wanted) {
      const finished = task.finishedAt?.getTime();
      jobs.push(await toProviderJob(task, finished === undefined || finished >= recent));
    }
    return page.nextPageToken ? { jobs, nextPageToken: page.nextPageToken } : { jobs };
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

    async deleteDataset(dataset) {
      // The sweep keeps to its deployment (dataset-sweep.ts); checked here as well, since a
      // delete cannot be undone and may fail another deployment's live job or draft.
      scope.checkDeletable(dataset);
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
      let operation: Awaited<ReturnType<typeof clients.tuning.tune>> | undefined;
      if (await draftRpcsAvailable()) {
        const left = await ownDraft(recordId);
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
      const metadata = operation.metadata?.value?.length
        ? tuningService.TuningMetadata.decode(operation.metadata.value)
        : undefined;
      const taskId = metadata?.tuningTaskId || operation.id;
      const providerState = statusName(metadata?.status ?? tuningTask.TuningTask_Status.CREATED);
      const job: ProviderJob = {
        name: nameOf(taskId),
        providerState,
        state: yandexToJobState(providerState),
        labels: request.labels,
        createTime: (operation.createdAt ?? new Date(now())).toISOString(),
      };
      if (metadata && metadata.totalSteps > 0)
        job.progress = { totalSteps: metadata.totalSteps, currentStep: metadata.currentStep };
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
      return toProviderJob(task);
    },

    listJobs,

    async findJobByRecordId(recordId) {
      let pageToken: string | undefined;
      const found: ProviderJob[] = [];
      do {
        const page = await listJobs({
          labels: { [jobIdLabel]: recordId },
          pageSize: maxListPageSize,
          ...(pageToken ? { pageToken } : {}),
        });
        // listJobs leaves out drafts (never started: createJob tunes them).
        found.push(...page.jobs);
        pageToken = page.nextPageToken;
      } while (pageToken);
      if (found.length > 1)
        logger?.warn('more than one yandex task carries one record id', {
          recordId,
          jobs: found.map((job) => job.name),
        });
      return found.sort((a, b) => (a.createTime ?? '').localeCompare(b.createTime ?? ''))[0];
    },

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
