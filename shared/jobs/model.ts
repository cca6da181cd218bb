/**
 * The job record: one Firestore document per job, provider-neutral. Schemas are the source of the
 * types; the store validates documents it reads so a malformed record fails loudly, not later.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AdapterSize, ApprovalPolicy } from '../config/index.ts';
import { YandexTuningParams } from './yandex-params.ts';

export const jobStates = [
  'DRAFT',
  'QUEUED',
  'PENDING',
  'RUNNING',
  'CANCELLING',
  'SUCCEEDED',
  'FAILED',
  'CANCELLED',
  'EXPIRED',
] as const;
export const JobState = z.enum(jobStates);
export type JobState = z.infer<typeof JobState>;

export const terminalStates: readonly JobState[] = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'EXPIRED'];
export const isTerminal = (state: JobState): boolean => terminalStates.includes(state);

/** Where the job came from: the uploaded object whose finalize event created it. */
export const JobSource = z.object({
  bucket: z.string(),
  object: z.string(),
  generation: z.string(),
  /** Set when the job came from a `tuning.json` manifest (then `object` is the manifest). */
  manifest: z.boolean().default(false),
});
export type JobSource = z.infer<typeof JobSource>;

/** A tuned model to continue tuning from (Vertex `preTunedModel`), instead of a base model. */
export const PreTunedModel = z.object({
  /** `projects/{p}/locations/{l}/models/{m}[@{version or alias}]`. */
  tunedModelName: z.string(),
  /** One of its checkpoints; its default checkpoint when absent. */
  checkpointId: z.string().optional(),
});
export type PreTunedModel = z.infer<typeof PreTunedModel>;

/** What to tune: the provider-neutral form of a supervised tuning request. */
export const TuningSpec = z.object({
  /**
   * The base model. With `preTunedModel` it is the base of that tuned model, as resolved for
   * validation and cost; the provider is then sent `preTunedModel` and no base model.
   */
  baseModel: z.string(),
  /** Continuous tuning: start from this tuned model (and checkpoint). */
  preTunedModel: PreTunedModel.optional(),
  trainingDatasetUri: z.string(),
  validationDatasetUri: z.string().optional(),
  epochCount: z.number().int().positive().optional(),
  learningRateMultiplier: z.number().positive().optional(),
  adapterSize: AdapterSize.optional(),
  tunedModelDisplayName: z.string().optional(),
  description: z.string().optional(),
  labels: z.record(z.string(), z.string()).default({}),
  kmsKeyName: z.string().optional(),
  serviceAccount: z.string().optional(),
  /** Export only the last checkpoint (Vertex's default, false, exports about one per epoch). */
  exportLastCheckpointOnly: z.boolean().optional(),
  /** Which provider runs the job; absent means Vertex AI (records written before Yandex existed). */
  provider: z.enum(['vertex', 'yandex']).optional(),
  /** Yandex AI Studio's own hyperparameters (provider yandex only). */
  yandex: YandexTuningParams.optional(),
});
export type TuningSpec = z.infer<typeof TuningSpec>;

export const CostEstimate = z.object({
  billableTokens: z.number().nonnegative(),
  epochs: z.number().positive(),
  usdPerMillionTokens: z.number().nonnegative(),
  costUsd: z.number().nonnegative(),
  /** How billableTokens was obtained: `counted`, `sampled`, `bound`... (see shared/dataset). */
  method: z.string(),
  /** The catalog price's date. */
  priceDate: z.string(),
  /** Where the catalog's price comes from. */
  priceSource: z.string().optional(),
});
export type CostEstimate = z.infer<typeof CostEstimate>;

/** A dataset as validated: tunedrop's pinned copy of one generation of what the user named. */
export const PinnedDataset = z.object({
  /** gs://BUCKET/validated/<job id>/<role>/<file>: what was validated and what the provider reads. */
  uri: z.string(),
  /** The copy's generation (tunedrop never replaces it). */
  generation: z.string(),
  /** What the user named (an object under incoming/, or a gs:// URI anywhere). */
  sourceUri: z.string(),
  /** The generation of the source whose bytes were copied and validated. */
  sourceGeneration: z.string(),
});
export type PinnedDataset = z.infer<typeof PinnedDataset>;

export const ValidationSummary = z.object({
  reportUri: z.string(),
  examples: z.number().int().nonnegative(),
  validationExamples: z.number().int().nonnegative().optional(),
  warnings: z.number().int().nonnegative().default(0),
  /**
   * The pinned copies the datasets were validated from; the spec's dataset URIs are these copies.
   * Absent only on records created before tunedrop pinned datasets.
   */
  pinned: z.object({ training: PinnedDataset, validation: PinnedDataset.optional() }).optional(),
  /**
   * The cost estimate's basis: the model catalog's price with its date and source, or "no public
   * price for <model> (model catalog facts as of <date>)", in which case there is no estimate.
   */
  priceBasis: z.string().optional(),
  /** Training examples Vertex AI will drop (over the token limit): not trained on, not billed. */
  droppableExamples: z.number().int().nonnegative().optional(),
});
export type ValidationSummary = z.infer<typeof ValidationSummary>;

export const JobError = z.object({
  code: z.union([z.string(), z.number()]),
  message: z.string(),
  /** Field violations and other details as the provider gave them. */
  details: z.array(z.unknown()).optional(),
});
export type JobError = z.infer<typeof JobError>;

export const Progress = z.object({
  currentStep: z.number().int().nonnegative().optional(),
  totalSteps: z.number().int().positive().optional(),
});
export type Progress = z.infer<typeof Progress>;

/** One intermediate checkpoint of the tuned model (Vertex `tunedModel.checkpoints[]`). */
export const Checkpoint = z.object({
  checkpointId: z.string(),
  epoch: z.number().int().nonnegative().optional(),
  step: z.number().int().nonnegative().optional(),
  /** The endpoint this checkpoint is deployed to. */
  endpoint: z.string().optional(),
});
export type Checkpoint = z.infer<typeof Checkpoint>;

export const TuningResult = z.object({
  tunedModel: z.string().optional(),
  endpoint: z.string().optional(),
  experiment: z.string().optional(),
  checkpoints: z.array(Checkpoint).optional(),
});
export type TuningResult = z.infer<typeof TuningResult>;

/**
 * The provider's own figures about the dataset it trained on (Vertex
 * `tuningDataStats.supervisedTuningDataStats`), once it has read it. Vertex drops (does not
 * truncate, despite the legacy field names) examples over the token limit or with unusable media,
 * and fails the job when more than 10% are dropped.
 */
export const TuningDataStats = z.object({
  tuningDatasetExampleCount: z.number().int().nonnegative().optional(),
  totalBillableTokenCount: z.number().int().nonnegative().optional(),
  tuningStepCount: z.number().int().nonnegative().optional(),
  /** Examples the provider dropped (Vertex `totalTruncatedExampleCount`). */
  totalTruncatedExampleCount: z.number().int().nonnegative().optional(),
  /** 1-based indices of dropped examples; Vertex returns a partial sample. */
  truncatedExampleIndices: z.array(z.number().int().nonnegative()).optional(),
  /** Why each of those examples was dropped, one per index. */
  droppedExampleReasons: z.array(z.string()).optional(),
});
export type TuningDataStats = z.infer<typeof TuningDataStats>;

export const HistoryEntry = z.object({
  state: JobState,
  time: z.string(),
  reason: z.string().optional(),
});

/** An event waiting in (or already sent from) the record's outbox. */
export const OutboxEntry = z.object({
  /** The full CloudEvent, exactly as published: a re-publish sends the same id. */
  event: z.record(z.string(), z.unknown()),
  createTime: z.string(),
  publishTime: z.string().optional(),
});
export type OutboxEntry = z.infer<typeof OutboxEntry>;

export const JobRecord = z.object({
  id: z.string(),
  state: JobState,
  createTime: z.string(),
  updateTime: z.string(),
  /** When `state` last changed; drives `job.stalled`. */
  stateTime: z.string(),
  source: JobSource,
  spec: TuningSpec,
  approval: z.object({
    policy: ApprovalPolicy,
    required: z.boolean(),
    /** Why a person must approve (manual policy, over budget, over TUNEDROP_AUTO_APPROVE_MAX_USD). */
    reason: z.string().optional(),
    approvedBy: z.string().optional(),
    approveTime: z.string().optional(),
  }),
  validation: ValidationSummary,
  estimate: CostEstimate.optional(),
  provider: z.object({
    name: z.string(),
    /** Set just before create is called: an intent with no jobName means "look the label up". */
    createIntentTime: z.string().optional(),
    jobName: z.string().optional(),
    state: z.string().optional(),
    /**
     * The provider's ids of the datasets uploaded and accepted at ingest (Yandex): the start
     * reuses them instead of uploading again; the poller deletes them once the job is over.
     */
    datasets: z.object({ train: z.string(), validation: z.string().optional() }).optional(),
  }),
  attempts: z.number().int().nonnegative().default(0),
  /** Of `attempts`, those refused for quota (429): waiting, not failing; they spend no retry budget. */
  quotaWaits: z.number().int().nonnegative().optional(),
  nextAttemptTime: z.string().optional(),
  progress: Progress.optional(),
  result: TuningResult.optional(),
  tuningDataStats: TuningDataStats.optional(),
  error: JobError.optional(),
  stalledNotified: z.boolean().default(false),
  /**
   * Failed attempts to reconcile the record with the provider (its job not found by name, a
   * label lookup that could not be answered), counted so nothing is retried forever: after the
   * poller's limit the job gets `job.stalled` with `reason` and is no longer retried.
   */
  recovery: z
    .object({
      attempts: z.number().int().nonnegative(),
      lastError: z.string(),
      lastTime: z.string(),
      /** Set when the poller gave up: the reason in the job.stalled event. */
      gaveUpTime: z.string().optional(),
    })
    .optional(),
  history: z.array(HistoryEntry),
  outbox: z.array(OutboxEntry).default([]),
  /**
   * Who is publishing this record's outbox right now, and until when: two overlapping flushes
   * (two poller runs, or ingest and the poller) would otherwise publish the same entries twice.
   */
  outboxLease: z.object({ owner: z.string(), until: z.string() }).optional(),
});
export type JobRecord = z.infer<typeof JobRecord>;

/** The Vertex label (and Firestore field) that ties a provider job to its record. */
export const jobIdLabel = 'tunedrop-job-id';

/**
 * The job id for an uploaded object generation: the same event delivered twice maps to the same
 * id, a new upload of the same name (a new generation) to a new one. 32 hex characters: a valid
 * Firestore document id and a valid Vertex AI label value.
 */
export function jobIdFor(source: { bucket: string; object: string; generation: string | number }): string {
  return createHash('sha256')
    .update(`${source.bucket}/${source.object}#${source.generation}`)
    .digest('hex')
    .slice(0, 32);
}

/** The part of a record that events, the API and the CLI show: no outbox, no internals. */
export function publicView(job: JobRecord) {
  return {
    id: job.id,
    state: job.state,
    createTime: job.createTime,
    updateTime: job.updateTime,
    source: job.source,
    provider: (job.provider.name === 'yandex' ? 'yandex' : 'vertex') as 'vertex' | 'yandex',
    baseModel: job.spec.baseModel,
    spec: job.spec,
    approval: job.approval,
    validation: job.validation,
    estimate: job.estimate,
    providerJobName: job.provider.jobName,
    progress: job.progress,
    result: job.result,
    tuningDataStats: job.tuningDataStats,
    error: job.error,
    history: job.history,
  };
}
export type JobPublicView = ReturnType<typeof publicView>;
