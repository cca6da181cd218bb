/**
 * The emulator's world: datasets with their uploads, tuning tasks with a lifecycle derived from
 * the clock, and the Operations that report on both. Everything is computed on read from the
 * creation time, so a task moves CREATED → PENDING → IN_PROGRESS → COMPLETED without timers.
 */
import { randomBytes } from 'node:crypto';
import { datasetService, dataset as datasetTypes } from '@yandex-cloud/nodejs-sdk/ai-dataset-v1';
import { tuningService, tuningTask } from '@yandex-cloud/nodejs-sdk/ai-tuning-v1';
import type { operation } from '@yandex-cloud/nodejs-sdk/operation';
import { checkTextToTextDataset, type DatasetCheck } from './dataset-check.ts';
import type { TaskFate } from './faults.ts';

const Status = tuningTask.TuningTask_Status;
type Status = tuningTask.TuningTask_Status;

export const typeUrls = {
  tuningMetadata: 'type.googleapis.com/yandex.cloud.ai.tuning.v1.TuningMetadata',
  tuningResponse: 'type.googleapis.com/yandex.cloud.ai.tuning.v1.TuningResponse',
  validateMetadata: 'type.googleapis.com/yandex.cloud.ai.dataset.v1.ValidateDatasetMetadata',
  validateResponse: 'type.googleapis.com/yandex.cloud.ai.dataset.v1.ValidateDatasetResponse',
} as const;

/** Ids shaped like Yandex's: a three-letter service prefix and 17 lowercase letters and digits. */
export function newId(prefix: string): string {
  const alphabet = 'abcdefghijklmnopqrstuv0123456789';
  const bytes = randomBytes(17);
  return prefix + [...bytes].map((byte) => alphabet[byte % alphabet.length]).join('');
}

export interface Upload {
  kind: 'single' | 'multipart';
  token: string;
  sizeBytes: number;
  parts: number;
  /** Multipart: part number → { bytes, etag }. */
  received: Map<number, { bytes: Buffer; etag: string }>;
}

export interface DatasetRecord {
  id: string;
  folderId: string;
  name: string;
  description: string;
  taskType: string;
  uploadFormat: string;
  labels: Record<string, string>;
  createdAt: number;
  bytes?: Buffer;
  upload?: Upload;
  validation?: { operationId: string; startedAt: number; check: DatasetCheck };
}

export interface TaskRecord {
  id: string;
  folderId: string;
  name: string;
  description: string;
  labels: Record<string, string>;
  request: tuningService.TuningRequest;
  createdAt: number;
  totalSteps: number;
  fate: TaskFate;
  cancelledAt?: number;
  /** Created by CreateDraft and not yet tuned (TuneDraft sets createdAt and clears this). */
  draft?: boolean;
}

export interface Timing {
  /** Tune to COMPLETED. */
  taskMs: number;
  /** Validate to its Operation being done. */
  validateMs: number;
}

/** Where a task is at `now`. Pure: the lifecycle is a function of the clock and its fate. */
export function taskProgress(
  task: TaskRecord,
  now: number,
  timing: Timing,
): { status: Status; currentStep: number; startedAt?: number; finishedAt?: number } {
  if (task.draft) return { status: Status.DRAFT, currentStep: 0 };
  const at = (fraction: number) => task.createdAt + fraction * timing.taskMs;
  const runningFrom = at(0.25);
  const elapsed = task.cancelledAt !== undefined ? Math.min(now, task.cancelledAt) : now;
  const stepAt = (time: number) =>
    Math.max(
      0,
      Math.min(
        task.totalSteps,
        Math.floor(((time - runningFrom) / (0.75 * timing.taskMs)) * task.totalSteps),
      ),
    );
  const started = elapsed >= runningFrom ? { startedAt: runningFrom } : {};
  let status: Status;
  let currentStep = 0;
  if (elapsed < at(0.1)) status = Status.CREATED;
  else if (elapsed < runningFrom || task.fate.stallIn === 'PENDING') status = Status.PENDING;
  else if (task.fate.fail && elapsed >= at(0.6)) {
    return { status: Status.FAILED, currentStep: stepAt(at(0.6)), ...started, finishedAt: at(0.6) };
  } else if (task.fate.stallIn === 'IN_PROGRESS') {
    status = Status.IN_PROGRESS;
    currentStep = Math.min(1, task.totalSteps);
  } else if (elapsed < at(1)) {
    status = Status.IN_PROGRESS;
    currentStep = stepAt(elapsed);
  } else {
    return { status: Status.COMPLETED, currentStep: task.totalSteps, ...started, finishedAt: at(1) };
  }
  if (task.cancelledAt !== undefined && now >= task.cancelledAt) {
    return {
      status: Status.CANCELED,
      currentStep,
      ...(status === Status.IN_PROGRESS ? started : {}),
      finishedAt: task.cancelledAt,
    };
  }
  return { status, currentStep, ...(status === Status.IN_PROGRESS ? started : {}) };
}

export const isFinished = (status: Status) =>
  status === Status.COMPLETED || status === Status.FAILED || status === Status.CANCELED;

export const failureMessage = 'training diverged: loss became NaN at the current step (emulated failure)';

/** What the refuseNextValidations fault answers: rows 1 and 2 over the limit by Yandex's tokenizer. */
function refusedByTokenizer(check: DatasetCheck): DatasetCheck {
  const rowNumbers = [1, 2].filter((row) => row <= check.totalRows);
  return {
    ...check,
    isValid: false,
    validRows: check.validRows - rowNumbers.length,
    errors: [
      {
        error: 'TOO_MANY_TOKENS',
        errorDescription: 'the example is longer than the model accepts (counted by the model tokenizer)',
        rowNumbers,
      },
    ],
  };
}

export class World {
  readonly datasets = new Map<string, DatasetRecord>();
  readonly tasks = new Map<string, TaskRecord>();
  /** Validation operation id → dataset id. */
  readonly validations = new Map<string, string>();

  constructor(
    readonly timing: Timing,
    private readonly now: () => number,
  ) {}

  reset(): void {
    this.datasets.clear();
    this.tasks.clear();
    this.validations.clear();
  }

  /** The target model of a completed task: the base URI with a tuning suffix, as Yandex shows it. */
  targetModelUri(task: TaskRecord): string {
    return `${task.request.baseModelUri}@tamr${task.id.slice(3)}`;
  }

  describeTask(task: TaskRecord): tuningTask.TuningTask {
    const progress = taskProgress(task, this.now(), this.timing);
    return tuningTask.TuningTask.fromPartial({
      taskId: task.id,
      operationId: task.id,
      status: progress.status,
      folderId: task.folderId,
      createdBy: 'emulator',
      createdAt: new Date(task.createdAt),
      ...(progress.startedAt !== undefined ? { startedAt: new Date(progress.startedAt) } : {}),
      ...(progress.finishedAt !== undefined ? { finishedAt: new Date(progress.finishedAt) } : {}),
      sourceModelUri: task.request.baseModelUri,
      targetModelUri: progress.status === Status.COMPLETED ? this.targetModelUri(task) : '',
      name: task.name,
      description: task.description,
      labels: task.labels,
    });
  }

  /** The Operation of a Tune: the task id is the operation id (as observed at Yandex). */
  tuneOperation(task: TaskRecord): operation.Operation {
    const now = this.now();
    const progress = taskProgress(task, now, this.timing);
    const metadata = tuningService.TuningMetadata.encode(
      tuningService.TuningMetadata.fromPartial({
        tuningTaskId: task.id,
        status: progress.status,
        totalSteps: task.totalSteps,
        currentStep: progress.currentStep,
      }),
    ).finish();
    const base = {
      id: task.id,
      description: 'Tuning',
      createdAt: new Date(task.createdAt),
      createdBy: 'emulator',
      modifiedAt: new Date(progress.finishedAt ?? now),
      done: isFinished(progress.status),
      metadata: { typeUrl: typeUrls.tuningMetadata, value: Buffer.from(metadata) },
    };
    if (progress.status === Status.COMPLETED) {
      const response = tuningService.TuningResponse.encode(
        tuningService.TuningResponse.fromPartial({
          tuningTaskId: task.id,
          status: progress.status,
          targetModelUri: this.targetModelUri(task),
        }),
      ).finish();
      return { ...base, response: { typeUrl: typeUrls.tuningResponse, value: Buffer.from(response) } };
    }
    if (progress.status === Status.FAILED) {
      return { ...base, error: { code: 13, message: failureMessage, details: [] } };
    }
    if (progress.status === Status.CANCELED) {
      return { ...base, error: { code: 1, message: 'tuning task was canceled', details: [] } };
    }
    return base;
  }

  /** Runs the format check once, when Validate is called; the Operation reports it after validateMs. */
  /** `refuse` is asked only when a well-formed dataset is checked, so a fault is spent only when applied. */
  startValidation(dataset: DatasetRecord, refuse: () => boolean = () => false): string {
    if (!dataset.validation) {
      const operationId = newId('fdo');
      const check = checkTextToTextDataset(dataset.bytes ?? Buffer.alloc(0));
      dataset.validation = {
        operationId,
        startedAt: this.now(),
        check: check.isValid && refuse() ? refusedByTokenizer(check) : check,
      };
      this.validations.set(operationId, dataset.id);
    }
    return dataset.validation.operationId;
  }

  datasetStatus(dataset: DatasetRecord): datasetTypes.DatasetInfo_Status {
    const { DatasetInfo_Status } = datasetTypes;
    if (!dataset.validation) return DatasetInfo_Status.DRAFT;
    if (this.now() - dataset.validation.startedAt < this.timing.validateMs)
      return DatasetInfo_Status.VALIDATING;
    return dataset.validation.check.isValid ? DatasetInfo_Status.READY : DatasetInfo_Status.INVALID;
  }

  validationOperation(dataset: DatasetRecord): operation.Operation {
    const validation = dataset.validation;
    if (!validation) throw new Error('not validated');
    const done = this.now() - validation.startedAt >= this.timing.validateMs;
    const { check } = validation;
    const metadata = datasetService.ValidateDatasetMetadata.encode(
      datasetService.ValidateDatasetMetadata.fromPartial({
        datasetId: dataset.id,
        validRows: done ? check.validRows : 0,
        processedRows: done ? check.totalRows : 0,
        totalRows: check.totalRows,
      }),
    ).finish();
    const base = {
      id: validation.operationId,
      description: 'Dataset validation',
      createdAt: new Date(validation.startedAt),
      createdBy: 'emulator',
      modifiedAt: new Date(done ? validation.startedAt + this.timing.validateMs : this.now()),
      done,
      metadata: { typeUrl: typeUrls.validateMetadata, value: Buffer.from(metadata) },
    };
    if (!done) return base;
    const response = datasetService.ValidateDatasetResponse.encode(
      datasetService.ValidateDatasetResponse.fromPartial({
        datasetId: dataset.id,
        isValid: check.isValid,
        errors: check.errors,
      }),
    ).finish();
    return { ...base, response: { typeUrl: typeUrls.validateResponse, value: Buffer.from(response) } };
  }
}
