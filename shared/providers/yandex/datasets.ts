/**
 * Getting a validated dataset into Yandex AI Studio for one job: DatasetService.Create
 * (TextToTextGeneration, jsonlines) → GetUploadDraftUrl and one HTTP PUT of the exact bytes (or
 * StartMultipartUploadDraft / PUT each part / FinishMultipartUploadDraft above the chunk size) →
 * Validate, waited for on the llm host. Resumable: the dataset carries the record id and its role
 * in labels, so a retry after a crash or a timeout finds it (READY: reuse; VALIDATING: wait; DRAFT:
 * upload again) instead of creating another (Yandex allows few datasets per folder). It also carries
 * the deployment's label: a folder may be shared by several deployments (staging and prod), and
 * each finds, reuses and frees only its own.
 */
import { datasetService, dataset as datasetTypes } from '@yandex-cloud/nodejs-sdk/ai-dataset-v1';
import { Status } from 'nice-grpc';
import { jobIdLabel } from '../../jobs/model.ts';
import type { Logger } from '../../logging/index.ts';
import {
  type DatasetRowErrors,
  deploymentLabel,
  type HeldDataset,
  isDatasetRowErrors,
  ProviderError,
} from '../types.ts';
import { isGrpcStatus, providerErrorFrom, type YandexClients } from './grpc.ts';

export const datasetRoleLabel = 'tunedrop-dataset-role';
export type DatasetRole = 'train' | 'validation';

/** Yandex's Python SDK default; S3 multipart parts must be 5 MiB to 5 GiB. */
export const defaultChunkBytes = 100 * 1024 * 1024;

export interface EnsureDatasetOptions {
  clients: YandexClients;
  folderId: string;
  /** This deployment's label value (config deploymentId). */
  deploymentId: string;
  recordId: string;
  role: DatasetRole;
  /** The bytes to upload: the pinned, validated copy. */
  bytes: () => Promise<Buffer>;
  chunkBytes: number;
  /** How long to wait for Validate before giving up for now (the next attempt resumes). */
  validationTimeoutMs: number;
  pollIntervalMs: number;
  fetch: typeof globalThis.fetch;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  logger?: Logger;
}

const { DatasetInfo_Status: DatasetStatus } = datasetTypes;

/** Yandex refused the dataset: permanent, with the row numbers of every error for the report. */
export function rejectedDataset(
  role: DatasetRole,
  errors: readonly datasetTypes.ValidationError[],
): ProviderError {
  const details: DatasetRowErrors[] = errors.map((error) => ({
    '@type': 'tunedrop.yandex.DatasetValidationError',
    role,
    error: error.error,
    description: error.errorDescription,
    rowNumbers: error.rowNumbers,
  }));
  const summary = details
    .map(
      (detail) =>
        `${detail.description || detail.error}${detail.rowNumbers.length ? ` (rows ${detail.rowNumbers.slice(0, 20).join(', ')}${detail.rowNumbers.length > 20 ? ', …' : ''})` : ''}`,
    )
    .join('; ');
  return new ProviderError(
    `Yandex AI Studio rejected the ${role} dataset: ${summary || 'no reason given'}`,
    400,
    'INVALID_ARGUMENT',
    false,
    details,
  );
}

/** Every dataset of the folder that tunedrop labelled with a record id and is not being deleted. */
async function listRecordDatasets(
  clients: YandexClients,
  folderId: string,
): Promise<datasetTypes.DatasetInfo[]> {
  const found: datasetTypes.DatasetInfo[] = [];
  let pageToken = '';
  do {
    const page = await clients.datasets.list(
      datasetService.ListDatasetsRequest.fromPartial({ folderId, pageSize: 100, pageToken }),
    );
    found.push(
      ...page.datasets.filter((info) => info.labels[jobIdLabel] && info.status !== DatasetStatus.DELETING),
    );
    pageToken = page.nextPageToken;
  } while (pageToken);
  return found;
}

async function findOwnDataset(options: EnsureDatasetOptions): Promise<datasetTypes.DatasetInfo | undefined> {
  const { clients, folderId, deploymentId, recordId, role } = options;
  const found = (await listRecordDatasets(clients, folderId)).filter(
    (info) =>
      info.labels[jobIdLabel] === recordId &&
      info.labels[datasetRoleLabel] === role &&
      info.labels[deploymentLabel] === deploymentId,
  );
  return found.sort((a, b) => (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0))[0];
}

async function put(options: EnsureDatasetOptions, url: string, body: Buffer, what: string): Promise<string> {
  let response: Response;
  try {
    // A Buffer body makes fetch send its exact Content-Length, which the presigned URL is signed over.
    response = await options.fetch(url, { method: 'PUT', body, signal: AbortSignal.timeout(10 * 60_000) });
  } catch (error) {
    throw new ProviderError(`${what}: upload failed: ${(error as Error).message}`, 0, 'UNAVAILABLE', true);
  }
  const text = await response.text();
  if (!response.ok) {
    // An expired or mismatched URL is fixed by a fresh one on the next attempt: transient.
    throw new ProviderError(
      `${what}: upload answered HTTP ${response.status} ${text.slice(0, 200)}`,
      response.status,
      'UNAVAILABLE',
      true,
    );
  }
  return response.headers.get('etag') ?? '';
}

async function upload(options: EnsureDatasetOptions, datasetId: string): Promise<void> {
  const { clients, chunkBytes } = options;
  const bytes = await options.bytes();
  if (bytes.length === 0) throw new ProviderError('the dataset is empty', 400, 'INVALID_ARGUMENT', false);
  if (bytes.length <= chunkBytes) {
    const { uploadUrl } = await clients.datasets.getUploadDraftUrl(
      datasetService.GetUploadDraftUrlRequest.fromPartial({ datasetId, sizeBytes: bytes.length }),
    );
    await put(options, uploadUrl, bytes, 'DatasetService upload');
    return;
  }
  const parts = Math.ceil(bytes.length / chunkBytes);
  const { multipartUploadUrls } = await clients.datasets.startMultipartUploadDraft(
    datasetService.StartMultipartUploadDraftRequest.fromPartial({
      datasetId,
      sizeBytes: bytes.length,
      parts,
    }),
  );
  if (multipartUploadUrls.length !== parts) {
    throw new ProviderError(
      `asked for ${parts} upload URLs, got ${multipartUploadUrls.length}`,
      500,
      'INTERNAL',
      true,
    );
  }
  const uploadedParts = [];
  for (const [index, url] of multipartUploadUrls.entries()) {
    const part = bytes.subarray(index * chunkBytes, (index + 1) * chunkBytes);
    const etag = await put(options, url, part, `DatasetService upload part ${index + 1}/${parts}`);
    uploadedParts.push({ partNum: index + 1, etag });
  }
  await clients.datasets.finishMultipartUploadDraft(
    datasetService.FinishMultipartUploadDraftRequest.fromPartial({ datasetId, uploadedParts }),
  );
}

/** Waits for a dataset to leave VALIDATING; READY returns, INVALID throws with its row numbers. */
async function waitReady(
  options: EnsureDatasetOptions,
  datasetId: string,
  operationId?: string,
): Promise<void> {
  const { clients, role } = options;
  const deadline = options.now() + options.validationTimeoutMs;
  for (;;) {
    if (operationId) {
      const operation = await clients.operations.get({ operationId });
      if (operation.done) {
        if (operation.error) {
          throw new ProviderError(
            `dataset validation failed: ${operation.error.message}`,
            500,
            'INTERNAL',
            true,
          );
        }
        const result = datasetService.ValidateDatasetResponse.decode(
          operation.response?.value ?? new Uint8Array(),
        );
        if (!result.isValid) throw rejectedDataset(role, result.errors);
        return;
      }
    } else {
      const { dataset } = await clients.datasets.describe({ datasetId });
      if (dataset?.status === DatasetStatus.READY) return;
      if (dataset?.status === DatasetStatus.INVALID) throw rejectedDataset(role, dataset.validationError);
    }
    if (options.now() >= deadline) {
      throw new ProviderError(
        `Yandex is still validating the ${role} dataset ${datasetId}; the next attempt resumes waiting`,
        504,
        'DEADLINE_EXCEEDED',
        true,
      );
    }
    await options.sleep(options.pollIntervalMs);
  }
}

/** Waits (a bounded while) for a draft another attempt is uploading to leave DRAFT. */
async function uploadedByAnother(options: EnsureDatasetOptions, datasetId: string): Promise<boolean> {
  const deadline = options.now() + Math.min(options.validationTimeoutMs, 60_000);
  for (;;) {
    const { dataset } = await options.clients.datasets.describe({ datasetId });
    if (dataset && dataset.status !== DatasetStatus.DRAFT) return true;
    if (options.now() >= deadline) return false;
    await options.sleep(options.pollIntervalMs);
  }
}

/** The id of a READY dataset holding this record's bytes for this role, creating it if needed. */
export async function ensureDataset(options: EnsureDatasetOptions): Promise<string> {
  const { clients, folderId, recordId, role, logger } = options;
  const what = `DatasetService (${role} dataset)`;
  let held: string | undefined;
  try {
    const existing = await findOwnDataset(options);
    held = existing?.datasetId;
    if (existing && existing.status !== DatasetStatus.DRAFT) {
      logger?.info('reusing the yandex dataset of an earlier attempt', {
        recordId,
        datasetId: existing.datasetId,
        role,
      });
      if (existing.status === DatasetStatus.INVALID) throw rejectedDataset(role, existing.validationError);
      await waitReady(options, existing.datasetId);
      return existing.datasetId;
    }
    let datasetId = existing?.datasetId;
    if (!datasetId) {
      const created = await clients.datasets.create(
        datasetService.CreateDatasetRequest.fromPartial({
          folderId,
          name: `tunedrop-${recordId.slice(0, 16)}-${role}`,
          description: `tunedrop job ${recordId} (${role})`,
          taskType: 'TextToTextGeneration',
          uploadFormat: 'jsonlines',
          labels: {
            [jobIdLabel]: recordId,
            [datasetRoleLabel]: role,
            [deploymentLabel]: options.deploymentId,
          },
        }),
      );
      datasetId = created.datasetId;
      held = datasetId;
      logger?.info('yandex dataset created', { recordId, datasetId, role });
    }
    try {
      await upload(options, datasetId);
    } catch (error) {
      // A 403 from the upload URL: a concurrent attempt (a duplicate event) asked for a newer URL,
      // or sealed the draft with Validate. FAILED_PRECONDITION from GetUploadDraftUrl or the
      // multipart calls ("no longer a draft"): the same race, seen one step earlier. Its upload of
      // the same pinned bytes is as good as ours; its verdict is ours.
      const raced =
        (error instanceof ProviderError && error.httpStatus === 403) ||
        isGrpcStatus(error, Status.FAILED_PRECONDITION);
      if (!raced) throw error;
      if (await uploadedByAnother(options, datasetId)) {
        logger?.info('a concurrent attempt uploaded the yandex dataset; waiting for its validation', {
          recordId,
          datasetId,
          role,
        });
        await waitReady(options, datasetId);
        return datasetId;
      }
      throw error;
    }
    let operationId: string | undefined;
    try {
      operationId = (await clients.datasets.validate({ datasetId })).id;
    } catch (error) {
      // FAILED_PRECONDITION: a concurrent attempt validated it first; its verdict is ours.
      if (!isGrpcStatus(error, Status.FAILED_PRECONDITION) || !(await uploadedByAnother(options, datasetId)))
        throw error;
    }
    await waitReady(options, datasetId, operationId);
    return datasetId;
  } catch (error) {
    const failure = providerErrorFrom(error, what);
    // Refused by Validate: of no use to anyone, and a folder holds only about ten datasets.
    if (held && !failure.transient && failure.details.some(isDatasetRowErrors)) {
      await deleteDataset(clients, held).then(
        () => logger?.info('yandex dataset refused by Validate deleted', { recordId, datasetId: held, role }),
        (deleteError: unknown) =>
          logger?.warn('yandex dataset refused by Validate not deleted; the poller retries', {
            recordId,
            datasetId: held,
            error: deleteError,
          }),
      );
    }
    throw failure;
  }
}

/**
 * Every dataset in the folder that carries a tunedrop record id, with its deployment label: the
 * poller's sweep frees only its own deployment's (dataset-sweep.ts).
 */
export async function listHeldDatasets(clients: YandexClients, folderId: string): Promise<HeldDataset[]> {
  return (await listRecordDatasets(clients, folderId)).map((info) => {
    const deployment = info.labels[deploymentLabel];
    return {
      provider: 'yandex',
      id: info.datasetId,
      recordId: info.labels[jobIdLabel] ?? '',
      ...(deployment ? { deployment } : {}),
      ...(info.createdAt ? { createTime: info.createdAt.toISOString() } : {}),
    };
  });
}

/** DatasetService.Delete; a dataset already gone is what was wanted. */
export async function deleteDataset(clients: YandexClients, datasetId: string): Promise<void> {
  try {
    await clients.datasets.delete({ datasetId });
  } catch (error) {
    if (isGrpcStatus(error, Status.NOT_FOUND)) return;
    throw providerErrorFrom(error, `DatasetService.Delete ${datasetId}`);
  }
}

/**
 * A prepared dataset still usable for Tune (READY) by its id; undefined when it is gone or not
 * READY, and the caller falls back to ensureDataset (which finds or re-uploads it by label).
 */
export async function readyDataset(clients: YandexClients, datasetId: string): Promise<string | undefined> {
  try {
    const { dataset } = await clients.datasets.describe({ datasetId });
    return dataset?.status === DatasetStatus.READY ? datasetId : undefined;
  } catch (error) {
    if (isGrpcStatus(error, Status.NOT_FOUND)) return undefined;
    throw providerErrorFrom(error, `DatasetService.Describe ${datasetId}`);
  }
}
