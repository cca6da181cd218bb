/**
 * What Vertex AI checks when a TuningJob is created, answered the way it answers: one 400
 * INVALID_ARGUMENT with a `google.rpc.BadRequest` listing every field violation. The checks that
 * need the dataset (readable, well-formed) happen later, when the job starts, as at Vertex.
 */
import { badRequest, type FieldViolation } from './errors.ts';

/** Base models that accept supervised tuning in v1 (with or without a publisher prefix). */
export const tunableModels = new Set([
  'gemini-2.5-pro',
  'gemini-2.5-flash',
  'gemini-2.5-flash-lite',
  'gemini-2.0-flash-001',
  'gemini-2.0-flash-lite-001',
  'gemini-1.5-pro-002',
  'gemini-1.5-flash-002',
]);

const adapterSizes = new Set([
  'ADAPTER_SIZE_UNSPECIFIED',
  'ADAPTER_SIZE_ONE',
  'ADAPTER_SIZE_TWO',
  'ADAPTER_SIZE_FOUR',
  'ADAPTER_SIZE_EIGHT',
  'ADAPTER_SIZE_SIXTEEN',
  'ADAPTER_SIZE_THIRTY_TWO',
]);

/** TuningJob fields a request may carry (output-only ones are accepted and ignored, as proto does). */
const knownFields = new Set([
  'name',
  'baseModel',
  'preTunedModel',
  'supervisedTuningSpec',
  'preferenceOptimizationSpec',
  'tunedModelDisplayName',
  'description',
  'state',
  'createTime',
  'startTime',
  'endTime',
  'updateTime',
  'error',
  'labels',
  'experiment',
  'tunedModel',
  'tuningDataStats',
  'encryptionSpec',
  'serviceAccount',
  'outputUri',
  'evaluateDatasetRuns',
  'fullFineTuningSpec',
]);

// Label keys and values: lowercase letters (international allowed), digits, `_` and `-`, up to 63.
const labelKey = /^\p{Ll}[\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
const labelValue = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;

export interface CreateRequest {
  baseModel: string;
  trainingDatasetUri: string;
  validationDatasetUri?: string;
  epochCount?: number;
  body: Record<string, unknown>;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function positiveInt64(value: unknown): number | undefined {
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof number === 'number' && Number.isInteger(number) && number > 0 ? number : undefined;
}

/** Validates a create body; returns the parts the emulator needs, or throws a 400 ApiError. */
export function validateCreate(body: unknown): CreateRequest {
  if (!isObject(body)) throw badRequest('Invalid JSON payload received. Expected an object.');
  const violations: FieldViolation[] = [];
  const violate = (field: string, description: string) => violations.push({ field, description });

  for (const key of Object.keys(body)) {
    if (!knownFields.has(key)) {
      violate(key, `Invalid JSON payload received. Unknown name "${key}": Cannot find field.`);
    }
  }
  const baseModel = body.baseModel;
  const modelId =
    typeof baseModel === 'string'
      ? baseModel.replace(/^(projects\/[^/]+\/locations\/[^/]+\/)?publishers\/google\/models\//, '')
      : '';
  if (typeof baseModel !== 'string' || !baseModel) violate('base_model', 'Base model is required.');
  else if (!tunableModels.has(modelId))
    violate('base_model', `Base model ${baseModel} is not supported for supervised tuning.`);

  const spec = body.supervisedTuningSpec;
  let trainingDatasetUri = '';
  let validationDatasetUri: string | undefined;
  let epochCount: number | undefined;
  if (!isObject(spec)) {
    violate('supervised_tuning_spec', 'Supervised tuning spec is required.');
  } else {
    if (typeof spec.trainingDatasetUri !== 'string' || !spec.trainingDatasetUri) {
      violate('supervised_tuning_spec.training_dataset_uri', 'Training dataset uri is required.');
    } else if (!spec.trainingDatasetUri.startsWith('gs://')) {
      violate(
        'supervised_tuning_spec.training_dataset_uri',
        'Training dataset uri must be a Cloud Storage URI (gs://).',
      );
    } else {
      trainingDatasetUri = spec.trainingDatasetUri;
    }
    if (spec.validationDatasetUri !== undefined) {
      if (typeof spec.validationDatasetUri !== 'string' || !spec.validationDatasetUri.startsWith('gs://')) {
        violate(
          'supervised_tuning_spec.validation_dataset_uri',
          'Validation dataset uri must be a Cloud Storage URI (gs://).',
        );
      } else {
        validationDatasetUri = spec.validationDatasetUri;
      }
    }
    const hyper = spec.hyperParameters;
    if (hyper !== undefined) {
      if (!isObject(hyper)) {
        violate('supervised_tuning_spec.hyper_parameters', 'Hyper parameters must be an object.');
      } else {
        if (hyper.epochCount !== undefined) {
          epochCount = positiveInt64(hyper.epochCount);
          if (epochCount === undefined)
            violate(
              'supervised_tuning_spec.hyper_parameters.epoch_count',
              'Epoch count must be a positive integer.',
            );
        }
        const lrm = hyper.learningRateMultiplier;
        if (lrm !== undefined && !(typeof lrm === 'number' && lrm > 0)) {
          violate(
            'supervised_tuning_spec.hyper_parameters.learning_rate_multiplier',
            'Learning rate multiplier must be positive.',
          );
        }
        if (hyper.adapterSize !== undefined && !adapterSizes.has(String(hyper.adapterSize))) {
          violate(
            'supervised_tuning_spec.hyper_parameters.adapter_size',
            `Invalid value for enum AdapterSize: ${String(hyper.adapterSize)}.`,
          );
        }
      }
    }
  }

  const displayName = body.tunedModelDisplayName;
  if (displayName !== undefined && (typeof displayName !== 'string' || [...displayName].length > 128)) {
    violate(
      'tuned_model_display_name',
      'Tuned model display name must be a string of at most 128 characters.',
    );
  }

  const labels = body.labels;
  if (labels !== undefined) {
    if (!isObject(labels)) {
      violate('labels', 'Labels must be a map of strings.');
    } else {
      if (Object.keys(labels).length > 64) violate('labels', 'At most 64 labels are allowed.');
      for (const [key, value] of Object.entries(labels)) {
        if (!labelKey.test(key)) {
          violate(
            `labels[${key}]`,
            'Label keys must start with a lowercase letter and contain only lowercase letters, digits, underscores and dashes, up to 63 characters.',
          );
        }
        if (typeof value !== 'string' || !labelValue.test(value)) {
          violate(
            `labels[${key}]`,
            'Label values must contain only lowercase letters, digits, underscores and dashes, up to 63 characters.',
          );
        }
      }
    }
  }

  if (violations.length) {
    throw badRequest(
      violations.length === 1
        ? (violations[0] as FieldViolation).description
        : 'Request contains an invalid argument.',
      violations,
    );
  }
  const result: CreateRequest = { baseModel: baseModel as string, trainingDatasetUri, body };
  if (validationDatasetUri) result.validationDatasetUri = validationDatasetUri;
  if (epochCount !== undefined) result.epochCount = epochCount;
  return result;
}
