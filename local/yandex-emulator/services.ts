/**
 * The three gRPC services as Yandex AI Studio publishes them, implemented over the emulator's
 * World with the SDK's generated service definitions (so paths, message encodings and field
 * numbers are the official ones). Every call needs an `authorization` header (Bearer or Api-Key);
 * its value is not checked. Draft RPCs answer UNIMPLEMENTED, as they do upstream.
 */
import { status as GrpcStatus, type handleUnaryCall, type Metadata } from '@grpc/grpc-js';
import { type datasetService, dataset as datasetTypes } from '@yandex-cloud/nodejs-sdk/ai-dataset-v1';
import { tuningError, tuningService, tuningTask } from '@yandex-cloud/nodejs-sdk/ai-tuning-v1';
import { operation, type operationService } from '@yandex-cloud/nodejs-sdk/operation';
import type { Logger } from '../../shared/logging/index.ts';
import type { YandexFaults } from './faults.ts';
import {
  type DatasetRecord,
  failureMessage,
  newId,
  type TaskRecord,
  taskProgress,
  type World,
} from './state.ts';

export class GrpcError extends Error {
  constructor(
    readonly code: GrpcStatus,
    message: string,
  ) {
    super(message);
  }
}

const invalid = (message: string) => new GrpcError(GrpcStatus.INVALID_ARGUMENT, message);
const notFound = (message: string) => new GrpcError(GrpcStatus.NOT_FOUND, message);

export type RpcName = string;

export interface ServiceContext {
  world: World;
  faults: YandexFaults;
  now: () => number;
  /** Describe and List do not see a task for this long after Tune (Yandex: "first few seconds"). */
  describeDelayMs: number;
  /** Where uploads go: the emulator's HTTP endpoint, e.g. http://127.0.0.1:8092. */
  uploadBase: () => string;
  /** Non-final parts of a multipart upload must be at least this big (S3: 5 MiB). */
  minPartBytes: number;
  tunableModels: () => readonly string[];
  /** Datasets one folder may hold (Yandex: about 10); Create answers RESOURCE_EXHAUSTED beyond. */
  datasetQuota?: number;
  /** Implement CreateDraft/TuneDraft/DeleteDraft (upstream: UNIMPLEMENTED, the default). */
  draftRpcs: boolean;
  logger?: Logger;
  /** Calls received per RPC, faulted ones included. */
  stats: Map<RpcName, number>;
}

/** Wraps one handler: counts it, applies faults and auth, turns thrown GrpcErrors into statuses. */
function unary<Req, Res>(
  context: ServiceContext,
  name: string,
  handle: (request: Req, metadata: Metadata) => Res,
): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    context.stats.set(name, (context.stats.get(name) ?? 0) + 1);
    try {
      if (context.faults.rollUnavailable())
        throw new GrpcError(GrpcStatus.UNAVAILABLE, 'service unavailable');
      const auth = call.metadata.get('authorization')[0];
      if (typeof auth !== 'string' || !/^(Bearer|Api-Key) \S+/.test(auth))
        throw new GrpcError(
          GrpcStatus.UNAUTHENTICATED,
          'authorization header with a Bearer token or Api-Key is required',
        );
      callback(null, handle(call.request, call.metadata));
    } catch (error) {
      if (error instanceof GrpcError) {
        context.logger?.debug('yandex emulator call refused', {
          rpc: name,
          code: error.code,
          message: error.message,
        });
        callback({ code: error.code, details: error.message });
      } else {
        context.logger?.error('yandex emulator call crashed', { rpc: name, error });
        callback({ code: GrpcStatus.INTERNAL, details: (error as Error).message });
      }
    }
  };
}

const unimplemented = (context: ServiceContext, name: string) =>
  unary(context, name, () => {
    throw new GrpcError(GrpcStatus.UNIMPLEMENTED, `${name} is not implemented`);
  });

function pageOf<T>(items: T[], pageSize: number, pageToken: string): { page: T[]; nextPageToken: string } {
  const size = pageSize > 0 ? Math.min(pageSize, 100) : 100;
  const start = pageToken ? Number.parseInt(pageToken, 10) : 0;
  if (!Number.isInteger(start) || start < 0) throw invalid('invalid page_token');
  const page = items.slice(start, start + size);
  return { page, nextPageToken: start + size < items.length ? String(start + size) : '' };
}

function requireDataset(context: ServiceContext, datasetId: string): DatasetRecord {
  if (!datasetId) throw invalid('dataset_id is required');
  const dataset = context.world.datasets.get(datasetId);
  if (!dataset) throw notFound(`dataset ${datasetId} not found`);
  return dataset;
}

/** A task as Describe/List see it: not yet during the first moments after Tune. */
function visibleTask(context: ServiceContext, taskId: string): TaskRecord {
  const task = context.world.tasks.get(taskId);
  if (!task || context.now() - task.createdAt < context.describeDelayMs)
    throw notFound(`tuning task ${taskId} not found`);
  return task;
}

export function datasetInfo(context: ServiceContext, dataset: DatasetRecord): datasetTypes.DatasetInfo {
  const check = dataset.validation?.check;
  const status = context.world.datasetStatus(dataset);
  const { DatasetInfo_Status } = datasetTypes;
  return datasetTypes.DatasetInfo.fromPartial({
    datasetId: dataset.id,
    folderId: dataset.folderId,
    name: dataset.name,
    description: dataset.description,
    status,
    taskType: dataset.taskType,
    createdAt: new Date(dataset.createdAt),
    updatedAt: new Date(context.now()),
    rows: status === DatasetInfo_Status.READY ? (check?.validRows ?? 0) : 0,
    sizeBytes: dataset.bytes?.length ?? 0,
    labels: dataset.labels,
    createdBy: 'emulator',
    validationError: status === DatasetInfo_Status.INVALID ? (check?.errors ?? []) : [],
  });
}

export function datasetServiceImpl(context: ServiceContext): datasetService.DatasetServiceServer {
  const { world } = context;
  const u = <Req, Res>(name: string, handle: (request: Req) => Res) =>
    unary<Req, Res>(context, `DatasetService/${name}`, handle);
  return {
    create: u('Create', (request: datasetService.CreateDatasetRequest) => {
      if (!request.name || request.name.length > 63) throw invalid('name is required, at most 63 characters');
      if (!request.folderId || request.folderId.length > 50) throw invalid('folder_id is required');
      if (!request.taskType) throw invalid('task_type is required');
      if (!request.uploadFormat) throw invalid('upload_format is required');
      if (request.taskType !== 'TextToTextGeneration')
        throw invalid(
          `task_type ${request.taskType} is not supported by the emulator (TextToTextGeneration only)`,
        );
      if (request.uploadFormat !== 'jsonlines')
        throw invalid(`unknown upload_format ${request.uploadFormat}`);
      const held = [...world.datasets.values()].filter((item) => item.folderId === request.folderId).length;
      if (context.datasetQuota !== undefined && held >= context.datasetQuota)
        throw new GrpcError(
          GrpcStatus.RESOURCE_EXHAUSTED,
          `quota exceeded: a folder holds at most ${context.datasetQuota} datasets (it holds ${held}); delete some`,
        );
      const dataset: DatasetRecord = {
        id: newId('fds'),
        folderId: request.folderId,
        name: request.name,
        description: request.description,
        taskType: request.taskType,
        uploadFormat: request.uploadFormat,
        labels: request.labels,
        createdAt: context.now(),
      };
      world.datasets.set(dataset.id, dataset);
      return { datasetId: dataset.id, dataset: datasetInfo(context, dataset) };
    }),
    describe: u('Describe', (request: datasetService.DescribeDatasetRequest) => ({
      dataset: datasetInfo(context, requireDataset(context, request.datasetId)),
    })),
    list: u('List', (request: datasetService.ListDatasetsRequest) => {
      if (!request.folderId) throw invalid('folder_id is required');
      const all = [...world.datasets.values()]
        .filter((dataset) => dataset.folderId === request.folderId)
        .filter((dataset) => !request.datasetIds.length || request.datasetIds.includes(dataset.id))
        .map((dataset) => datasetInfo(context, dataset))
        .filter((info) => !request.status.length || request.status.includes(info.status));
      const { page, nextPageToken } = pageOf(all, request.pageSize, request.pageToken);
      return { datasets: page, nextPageToken };
    }),
    delete: u('Delete', (request: datasetService.DeleteDatasetRequest) => {
      requireDataset(context, request.datasetId);
      world.datasets.delete(request.datasetId);
      return {};
    }),
    getUploadDraftUrl: u('GetUploadDraftUrl', (request: datasetService.GetUploadDraftUrlRequest) => {
      const dataset = requireDataset(context, request.datasetId);
      if (!(request.sizeBytes > 0)) throw invalid('size_bytes must be greater than 0');
      if (dataset.validation)
        throw new GrpcError(GrpcStatus.FAILED_PRECONDITION, 'dataset is no longer a draft');
      const token = newId('tok');
      dataset.upload = { kind: 'single', token, sizeBytes: request.sizeBytes, parts: 1, received: new Map() };
      return {
        datasetId: dataset.id,
        uploadUrl: `${context.uploadBase()}/drafts/${dataset.id}?X-Amz-Signature=${token}&X-Amz-SignedHeaders=content-length%3Bhost`,
      };
    }),
    startMultipartUploadDraft: u(
      'StartMultipartUploadDraft',
      (request: datasetService.StartMultipartUploadDraftRequest) => {
        const dataset = requireDataset(context, request.datasetId);
        if (!(request.sizeBytes > 0)) throw invalid('size_bytes must be greater than 0');
        if (!(request.parts >= 1 && request.parts <= 10_000)) throw invalid('parts must be from 1 to 10000');
        if (dataset.validation)
          throw new GrpcError(GrpcStatus.FAILED_PRECONDITION, 'dataset is no longer a draft');
        const token = newId('tok');
        dataset.upload = {
          kind: 'multipart',
          token,
          sizeBytes: request.sizeBytes,
          parts: request.parts,
          received: new Map(),
        };
        const urls = Array.from(
          { length: request.parts },
          (_, index) =>
            `${context.uploadBase()}/drafts/${dataset.id}?partNumber=${index + 1}&X-Amz-Signature=${token}`,
        );
        return { datasetId: dataset.id, multipartUploadUrls: urls };
      },
    ),
    finishMultipartUploadDraft: u(
      'FinishMultipartUploadDraft',
      (request: datasetService.FinishMultipartUploadDraftRequest) => {
        const dataset = requireDataset(context, request.datasetId);
        const upload = dataset.upload;
        if (upload?.kind !== 'multipart')
          throw new GrpcError(GrpcStatus.FAILED_PRECONDITION, 'no multipart upload was started');
        const parts = [...request.uploadedParts].sort((a, b) => a.partNum - b.partNum);
        if (parts.length !== upload.parts)
          throw invalid(`expected ${upload.parts} parts, got ${parts.length}`);
        const chunks: Buffer[] = [];
        parts.forEach((part, index) => {
          const received = upload.received.get(part.partNum);
          if (part.partNum !== index + 1 || !received) throw invalid(`part ${part.partNum} was not uploaded`);
          if (received.etag !== part.etag) throw invalid(`etag of part ${part.partNum} does not match`);
          if (index < parts.length - 1 && received.bytes.length < context.minPartBytes)
            throw invalid(`part ${part.partNum} is smaller than the minimum part size`);
          chunks.push(received.bytes);
        });
        const bytes = Buffer.concat(chunks);
        if (bytes.length !== upload.sizeBytes)
          throw invalid(`uploaded ${bytes.length} bytes, size_bytes said ${upload.sizeBytes}`);
        dataset.bytes = bytes;
        return { datasetId: dataset.id };
      },
    ),
    validate: u('Validate', (request: datasetService.ValidateDatasetRequest) => {
      const dataset = requireDataset(context, request.datasetId);
      if (!dataset.bytes) throw new GrpcError(GrpcStatus.FAILED_PRECONDITION, 'dataset has no uploaded data');
      world.startValidation(dataset, () => context.faults.takeValidationRefusal());
      return world.validationOperation(dataset);
    }),
    update: u('Update', (request: datasetService.UpdateDatasetRequest) => {
      const dataset = requireDataset(context, request.datasetId);
      const paths = request.updateMask?.paths ?? ['name', 'description', 'labels'];
      if (paths.includes('name')) dataset.name = request.name;
      if (paths.includes('description')) dataset.description = request.description;
      if (paths.includes('labels')) dataset.labels = request.labels;
      return { dataset: datasetInfo(context, dataset) };
    }),
    listUploadFormats: u('ListUploadFormats', () => ({ formats: ['jsonlines'] })),
    listUploadSchemas: u('ListUploadSchemas', () => ({ schemas: [] })),
    listTypes: u('ListTypes', () => ({ types: ['TextToTextGeneration'] })),
    getPreview: unimplemented(context, 'DatasetService/GetPreview'),
    getDownloadUrls: unimplemented(context, 'DatasetService/GetDownloadUrls'),
    listOperationsIds: unimplemented(context, 'DatasetService/ListOperationsIds'),
  };
}

const taskNamePattern = /^[A-Za-z0-9 _-]{3,100}$/;
const modelUriPattern = /^gpt:\/\/([^/]+)\/([^/@]+)\/([^/@]+)$/;

function checkTuningRequest(context: ServiceContext, request: tuningService.TuningRequest): DatasetRecord[] {
  const match = modelUriPattern.exec(request.baseModelUri);
  if (!match)
    throw invalid(
      `base_model_uri must look like gpt://<folder_id>/<model>/<version>, got "${request.baseModelUri}"`,
    );
  const model = match[2] ?? '';
  if (!context.tunableModels().includes(model)) throw invalid(`model ${model} cannot be tuned`);
  if (request.name && !taskNamePattern.test(request.name))
    throw invalid('name must match ^[A-Za-z0-9 _-]{3,100}$');
  if (!request.trainDatasets.length) throw invalid('train_datasets must not be empty');
  const params = [
    request.textToTextCompletion,
    request.textClassificationMulticlass,
    request.textClassificationMultilabel,
    request.textEmbeddingPairParams,
    request.textEmbeddingTripletParams,
  ].filter(Boolean);
  if (params.length !== 1) throw invalid('exactly one of the tuning params must be set');
  if (!request.textToTextCompletion)
    throw invalid('only text_to_text_completion is supported by the emulator');
  const lora = request.textToTextCompletion.lora;
  if (lora && lora.rank < 0) throw invalid('lora.rank must not be negative');
  const datasets = [
    ...request.trainDatasets,
    ...(request.validationDataset ? [request.validationDataset] : []),
  ];
  return datasets.map((weighted) => {
    const dataset = requireDataset(context, weighted.datasetId);
    if (context.world.datasetStatus(dataset) !== datasetTypes.DatasetInfo_Status.READY)
      throw new GrpcError(GrpcStatus.FAILED_PRECONDITION, `dataset ${dataset.id} is not READY`);
    return dataset;
  });
}

export function tuningServiceImpl(context: ServiceContext): tuningService.TuningServiceServer {
  const { world } = context;
  const u = <Req, Res>(name: string, handle: (request: Req) => Res) =>
    unary<Req, Res>(context, `TuningService/${name}`, handle);
  return {
    tune: u('Tune', (request: tuningService.TuningRequest) => {
      const datasets = checkTuningRequest(context, request);
      if (context.faults.takeRateLimit())
        throw new GrpcError(GrpcStatus.RESOURCE_EXHAUSTED, 'quota exceeded: tuning runs per hour');
      const task = newTask(context, request, datasets);
      world.tasks.set(task.id, task);
      context.logger?.info('yandex emulator tuning task created', { taskId: task.id, labels: task.labels });
      if (context.faults.takeLostResponse())
        throw new GrpcError(GrpcStatus.UNAVAILABLE, 'upstream connect error');
      return world.tuneOperation(task);
    }),
    list: u('List', (request: tuningService.ListTuningsRequest) => {
      if (!request.folderId) throw invalid('folder_id is required');
      const all = [...world.tasks.values()]
        .filter((task) => task.folderId === request.folderId)
        .filter((task) => context.now() - task.createdAt >= context.describeDelayMs)
        .sort((a, b) => b.createdAt - a.createdAt)
        .map((task) => world.describeTask(task))
        .filter((task) => !request.status || task.status === request.status);
      const { page, nextPageToken } = pageOf(all, request.pageSize, request.pageToken);
      return { tuningTasks: page, nextPageToken };
    }),
    describe: u('Describe', (request: tuningService.DescribeTuningRequest) => ({
      tuningTask: world.describeTask(visibleTask(context, request.tuningTaskId)),
    })),
    cancel: u('Cancel', (request: tuningService.CancelTuningRequest) => {
      const task = visibleTask(context, request.tuningTaskId);
      cancelTask(context, task);
      return { tuningTaskId: task.id };
    }),
    getMetricsUrl: u('GetMetricsUrl', (request: tuningService.GetMetricsUrlRequest) => {
      const task = visibleTask(context, request.taskId);
      return { loadUrl: `${context.uploadBase()}/metrics/${task.id}` };
    }),
    getOptions: u('GetOptions', (request: tuningService.GetOptionsRequest) => {
      const task = visibleTask(context, request.taskId);
      const { baseModelUri, trainDatasets, validationDatasets, textToTextCompletion } = task.request;
      return tuningService.GetOptionsResponse.fromPartial({
        taskId: task.id,
        baseModelUri,
        trainDatasets,
        validationDatasets,
        ...(textToTextCompletion ? { textToTextCompletion } : {}),
      });
    }),
    listErrors: u('ListErrors', (request: tuningService.ListErrorsRequest) => {
      const task = visibleTask(context, request.tuningTaskId);
      const failed =
        taskProgress(task, context.now(), world.timing).status === tuningTask.TuningTask_Status.FAILED;
      return {
        tuningError: failed
          ? [{ tuningTaskId: task.id, message: failureMessage, type: tuningError.TuningError_Type.PUBLIC }]
          : [],
      };
    }),
    ...(context.draftRpcs ? draftRpcs(context) : upstreamDrafts(context)),
    updateDraft: unimplemented(context, 'TuningService/UpdateDraft'),
    archive: unimplemented(context, 'TuningService/Archive'),
    enableBilling: unimplemented(context, 'TuningService/EnableBilling'),
  };
}

function newTask(
  context: ServiceContext,
  request: tuningService.TuningRequest,
  datasets: DatasetRecord[],
): TaskRecord {
  const nSamples = request.textToTextCompletion?.nSamples ?? 0;
  const rows = datasets[0]?.validation?.check.validRows ?? 0;
  return {
    id: newId('ftn'),
    folderId: modelUriPattern.exec(request.baseModelUri)?.[1] ?? '',
    name: request.name,
    description: request.description,
    labels: request.labels,
    request,
    createdAt: context.now(),
    // Steps of 8 samples; by default ten passes over the training rows.
    totalSteps: Math.max(1, Math.ceil((nSamples > 0 ? nSamples : rows * 10) / 8)),
    fate: context.faults.takeTaskFate(),
  };
}

/** Upstream today: the draft RPCs are declared and answer UNIMPLEMENTED. */
function upstreamDrafts(context: ServiceContext) {
  return {
    createDraft: unimplemented(context, 'TuningService/CreateDraft'),
    deleteDraft: unimplemented(context, 'TuningService/DeleteDraft'),
    tuneDraft: unimplemented(context, 'TuningService/TuneDraft'),
  };
}

/**
 * The draft RPCs as their messages describe them, for the day Yandex implements them: CreateDraft
 * checks a request like Tune and holds a DRAFT task that costs nothing; TuneDraft starts it (the
 * same Operation as Tune; a task is tuned once); DeleteDraft removes a task still in DRAFT.
 */
function draftRpcs(context: ServiceContext) {
  const { world } = context;
  const u = <Req, Res>(name: string, handle: (request: Req) => Res) =>
    unary<Req, Res>(context, `TuningService/${name}`, handle);
  const draftTask = (tuningTaskId: string): TaskRecord => {
    if (!tuningTaskId) throw invalid('tuning_task_id is required');
    const task = world.tasks.get(tuningTaskId);
    if (!task) throw notFound(`tuning task ${tuningTaskId} not found`);
    return task;
  };
  return {
    createDraft: u('CreateDraft', (request: tuningService.CreateTuningDraftRequest) => {
      const tuning = tuningService.TuningRequest.fromPartial({ ...request });
      const task = { ...newTask(context, tuning, checkTuningRequest(context, tuning)), draft: true };
      // A draft is visible at once: nothing runs behind it.
      task.createdAt = context.now() - context.describeDelayMs;
      world.tasks.set(task.id, task);
      return { tuningTaskId: task.id };
    }),
    tuneDraft: u('TuneDraft', (request: tuningService.TuneDraftRequest) => {
      const task = draftTask(request.tuningTaskId);
      if (!task.draft)
        throw new GrpcError(GrpcStatus.FAILED_PRECONDITION, `tuning task ${task.id} is not a draft`);
      if (context.faults.takeRateLimit())
        throw new GrpcError(GrpcStatus.RESOURCE_EXHAUSTED, 'quota exceeded: tuning runs per hour');
      task.draft = false;
      task.createdAt = context.now();
      if (context.faults.takeLostResponse())
        throw new GrpcError(GrpcStatus.UNAVAILABLE, 'upstream connect error');
      return world.tuneOperation(task);
    }),
    deleteDraft: u('DeleteDraft', (request: tuningService.DeleteTuningDraftRequest) => {
      const task = draftTask(request.tuningTaskId);
      if (!task.draft)
        throw new GrpcError(GrpcStatus.FAILED_PRECONDITION, `tuning task ${task.id} is not a draft`);
      world.tasks.delete(task.id);
      return { tuningTaskId: task.id };
    }),
  };
}

function cancelTask(context: ServiceContext, task: TaskRecord): void {
  const { status } = taskProgress(task, context.now(), context.world.timing);
  const { TuningTask_Status: Status } = tuningTask;
  if (status === Status.COMPLETED || status === Status.FAILED)
    throw new GrpcError(GrpcStatus.FAILED_PRECONDITION, `tuning task ${task.id} has already finished`);
  task.cancelledAt ??= context.now();
}

export function operationServiceImpl(context: ServiceContext): operationService.OperationServiceServer {
  const { world } = context;
  const find = (operationId: string): operation.Operation => {
    if (!operationId) throw invalid('operation_id is required');
    const task = world.tasks.get(operationId);
    if (task) return world.tuneOperation(task);
    const datasetId = world.validations.get(operationId);
    const dataset = datasetId ? world.datasets.get(datasetId) : undefined;
    if (dataset) return world.validationOperation(dataset);
    throw notFound(`operation ${operationId} not found`);
  };
  return {
    get: unary(context, 'OperationService/Get', (request: operationService.GetOperationRequest) =>
      find(request.operationId),
    ),
    cancel: unary(context, 'OperationService/Cancel', (request: operationService.CancelOperationRequest) => {
      const task = world.tasks.get(request.operationId);
      if (!task) {
        find(request.operationId);
        throw new GrpcError(GrpcStatus.FAILED_PRECONDITION, 'this operation cannot be cancelled');
      }
      cancelTask(context, task);
      return operation.Operation.fromPartial(world.tuneOperation(task));
    }),
  };
}
