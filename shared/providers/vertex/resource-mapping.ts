/**
 * Conversion between tunedrop's view of a job and Vertex AI's v1 TuningJob resource: the request
 * body a spec becomes, and the ProviderJob a returned resource becomes. Pure functions, kept apart
 * from the HTTP client so the mapping can be read (and tested) without any transport.
 */
import { jobIdLabel, type TuningSpec } from '../../jobs/model.ts';
import type { ProviderJob } from '../types.ts';
import { adapterSizeEnum, type TuningJobResource } from './schema.ts';
import { toJobState } from './states.ts';

/** Marks every job tunedrop created, so one filtered list finds them all. */
export const managedLabel = 'tunedrop-managed';

/**
 * The label Vertex puts on a tuned model naming its tuning base model (schema.ts, ModelResource):
 * read by Google's own SDKs as the tuned model's base model.
 */
export const tuningBaseModelLabel = 'google-vertex-llm-tuning-base-model-id';

/** The TuningJob request body for a spec: camelCase, int64 as strings, tunedrop labels merged over the user's. */
export function toTuningJobBody(spec: TuningSpec, recordId: string): Record<string, unknown> {
  const hyperParameters: Record<string, unknown> = {};
  if (spec.epochCount !== undefined) hyperParameters.epochCount = String(spec.epochCount);
  if (spec.learningRateMultiplier !== undefined)
    hyperParameters.learningRateMultiplier = spec.learningRateMultiplier;
  if (spec.adapterSize !== undefined) hyperParameters.adapterSize = adapterSizeEnum[spec.adapterSize];
  const supervisedTuningSpec: Record<string, unknown> = { trainingDatasetUri: spec.trainingDatasetUri };
  if (spec.validationDatasetUri) supervisedTuningSpec.validationDatasetUri = spec.validationDatasetUri;
  if (Object.keys(hyperParameters).length) supervisedTuningSpec.hyperParameters = hyperParameters;
  if (spec.exportLastCheckpointOnly !== undefined)
    supervisedTuningSpec.exportLastCheckpointOnly = spec.exportLastCheckpointOnly;
  // `baseModel` and `preTunedModel` are a oneof: continuous tuning sends only the tuned model
  // (Vertex fills its baseModel in as output).
  const source: Record<string, unknown> = spec.preTunedModel
    ? {
        preTunedModel: {
          tunedModelName: spec.preTunedModel.tunedModelName,
          ...(spec.preTunedModel.checkpointId ? { checkpointId: spec.preTunedModel.checkpointId } : {}),
        },
      }
    : { baseModel: spec.baseModel };
  const body: Record<string, unknown> = {
    ...source,
    supervisedTuningSpec,
    labels: { ...spec.labels, [jobIdLabel]: recordId, [managedLabel]: 'true' },
  };
  if (spec.tunedModelDisplayName) body.tunedModelDisplayName = spec.tunedModelDisplayName;
  if (spec.description) body.description = spec.description;
  if (spec.kmsKeyName) body.encryptionSpec = { kmsKeyName: spec.kmsKeyName };
  if (spec.serviceAccount) body.serviceAccount = spec.serviceAccount;
  return body;
}

/** A Vertex TuningJob as tunedrop sees it. */
export function toProviderJob(resource: TuningJobResource): ProviderJob {
  const providerState = resource.state ?? 'JOB_STATE_UNSPECIFIED';
  const job: ProviderJob = {
    name: resource.name,
    providerState,
    state: toJobState(providerState),
    labels: resource.labels ?? {},
  };
  if (resource.createTime) job.createTime = resource.createTime;
  if (resource.updateTime) job.updateTime = resource.updateTime;
  // Vertex exposes no progress counter: the step count comes with the data stats once the job has
  // read its dataset, and each exported checkpoint carries the step it was taken at.
  const totalSteps = resource.tuningDataStats?.supervisedTuningDataStats?.tuningStepCount;
  const steps = (resource.tunedModel?.checkpoints ?? []).map((checkpoint) => checkpoint.step ?? 0);
  const progress: ProviderJob['progress'] = {};
  if (totalSteps && totalSteps > 0) progress.totalSteps = totalSteps;
  if (steps.length) progress.currentStep = Math.max(...steps);
  else if (job.state === 'SUCCEEDED' && progress.totalSteps) progress.currentStep = progress.totalSteps;
  if (Object.keys(progress).length) job.progress = progress;
  const result: NonNullable<ProviderJob['result']> = {};
  if (resource.tunedModel?.model) result.tunedModel = resource.tunedModel.model;
  if (resource.tunedModel?.endpoint) result.endpoint = resource.tunedModel.endpoint;
  if (resource.experiment) result.experiment = resource.experiment;
  const checkpoints = (resource.tunedModel?.checkpoints ?? []).flatMap((checkpoint) =>
    checkpoint.checkpointId
      ? [
          {
            checkpointId: checkpoint.checkpointId,
            ...(checkpoint.epoch !== undefined ? { epoch: checkpoint.epoch } : {}),
            ...(checkpoint.step !== undefined ? { step: checkpoint.step } : {}),
            ...(checkpoint.endpoint ? { endpoint: checkpoint.endpoint } : {}),
          },
        ]
      : [],
  );
  if (checkpoints.length) result.checkpoints = checkpoints;
  if (Object.keys(result).length) job.result = result;
  const stats = resource.tuningDataStats?.supervisedTuningDataStats;
  if (stats) {
    const dataStats: NonNullable<ProviderJob['tuningDataStats']> = {};
    const fields = [
      'tuningDatasetExampleCount',
      'totalBillableTokenCount',
      'tuningStepCount',
      'totalTruncatedExampleCount',
    ] as const;
    for (const field of fields) if (stats[field] !== undefined) dataStats[field] = stats[field];
    if (stats.truncatedExampleIndices?.length)
      dataStats.truncatedExampleIndices = stats.truncatedExampleIndices;
    if (stats.droppedExampleReasons?.length) dataStats.droppedExampleReasons = stats.droppedExampleReasons;
    if (Object.keys(dataStats).length) job.tuningDataStats = dataStats;
  }
  if (resource.error && (resource.error.code || resource.error.message)) {
    job.error = { code: resource.error.code ?? 2, message: resource.error.message ?? '' };
    if (resource.error.details?.length) job.error.details = resource.error.details;
  }
  return job;
}
