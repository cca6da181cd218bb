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

/** What to tune: the provider-neutral form of a supervised tuning request. */
export const TuningSpec = z.object({
  baseModel: z.string(),
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
  priceDate: z.string(),
});
export type CostEstimate = z.infer<typeof CostEstimate>;

export const ValidationSummary = z.object({
  reportUri: z.string(),
  examples: z.number().int().nonnegative(),
  validationExamples: z.number().int().nonnegative().optional(),
  warnings: z.number().int().nonnegative().default(0),
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

export const TuningResult = z.object({
  tunedModel: z.string().optional(),
  endpoint: z.string().optional(),
  experiment: z.string().optional(),
});
export type TuningResult = z.infer<typeof TuningResult>;

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
  }),
  attempts: z.number().int().nonnegative().default(0),
  nextAttemptTime: z.string().optional(),
  progress: Progress.optional(),
  result: TuningResult.optional(),
  error: JobError.optional(),
  stalledNotified: z.boolean().default(false),
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
    error: job.error,
    history: job.history,
  };
}
export type JobPublicView = ReturnType<typeof publicView>;
