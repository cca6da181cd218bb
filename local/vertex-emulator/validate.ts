/**
 * What Vertex AI checks when a TuningJob is created, answered the way it answers: the body is
 * parsed as v1 proto3 JSON first (proto-json.ts: unknown names, wrong types, two members of a
 * oneof), then checked as a request: one 400 INVALID_ARGUMENT with a `google.rpc.BadRequest`
 * listing every field violation. The checks that need the dataset (readable, well-formed, examples
 * over the token limit) happen later, when the job starts, as at Vertex.
 *
 * Models come from tunedrop's model catalog (shared/models), never from a list here:
 * - a base model whose retirement is confirmed and past is refused (400 INVALID_ARGUMENT on
 *   base_model). Vertex's exact text for a retired model is not documented
 *   (shared/reference/vertex-tuning-2026.md §1.3 marks it UNCONFIRMED); the message is plausible,
 *   not Vertex's own.
 * - a model listed for retirement whose effect on new jobs is unconfirmed (2.5 today) is accepted.
 * - a model the catalog does not know is accepted: the catalog may lag behind Vertex, and the
 *   emulator must not be stricter than the service is known to be (a client tested here would
 *   otherwise learn to refuse what Vertex takes). Its conservative limits still apply to drops.
 * - an adapter size the model does not offer is refused, naming the sizes it does.
 */
import {
  adapterSizeIssue,
  bareModelId,
  type Catalog,
  type CatalogModel,
  findCatalogModel,
  resolveModel,
} from '../../shared/models/index.ts';
import { ApiError, badRequest, type FieldViolation, failedPrecondition, notFound } from './errors.ts';
import { type AdapterSizeName, parseMessage } from './proto-json.ts';

/** The adapter rank each AdapterSize name stands for (the catalog speaks in ranks). */
export const adapterRank: Record<AdapterSizeName, number | undefined> = {
  ADAPTER_SIZE_UNSPECIFIED: undefined,
  ADAPTER_SIZE_ONE: 1,
  ADAPTER_SIZE_TWO: 2,
  ADAPTER_SIZE_FOUR: 4,
  ADAPTER_SIZE_EIGHT: 8,
  ADAPTER_SIZE_SIXTEEN: 16,
  ADAPTER_SIZE_THIRTY_TWO: 32,
};
const adapterName = (rank: number) =>
  (Object.entries(adapterRank).find(([, value]) => value === rank)?.[0] as AdapterSizeName) ?? String(rank);

// Label keys and values: lowercase letters (international allowed), digits, `_` and `-`, up to 63.
const labelKey = /^\p{Ll}[\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
const labelValue = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;
const tunedModelName = /^projects\/[^/]+\/locations\/[^/]+\/models\/[^/@]+(@[^/@]+)?$/;

/** A model a succeeded job of this emulator produced (continuous tuning starts from one). */
export interface TunedModelInfo {
  /** `projects/…/models/ID@VERSION`. */
  name: string;
  displayName?: string;
  /** The bare base model id the chain started from. */
  baseModel: string;
  checkpointIds: string[];
}

export interface CreateContext {
  catalog: Catalog;
  /** YYYY-MM-DD, the emulator's today (retirement dates are compared with it). */
  today: string;
  /** The succeeded model a `tunedModelName` names (latest version when none is given). */
  findTunedModel(name: string): TunedModelInfo | undefined;
}

export interface CreateRequest {
  /** The request as canonical proto3 JSON, `preTunedModel.baseModel` filled in. */
  body: Record<string, unknown>;
  /** The catalog entry the job tunes (for preTunedModel: its base's), or the unknown defaults. */
  model: CatalogModel;
  preTuned?: TunedModelInfo;
  trainingDatasetUri: string;
  validationDatasetUri?: string;
  epochCount?: number;
  exportLastCheckpointOnly: boolean;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function throwIfAny(violations: FieldViolation[]): void {
  if (!violations.length) return;
  throw badRequest(
    violations.length === 1
      ? (violations[0] as FieldViolation).description
      : violations.map((violation) => violation.description).join('\n'),
    violations,
  );
}

/** Validates a create body; returns what the emulator needs, or throws an ApiError. */
export function validateCreate(raw: unknown, context: CreateContext): CreateRequest {
  if (!isObject(raw)) throw badRequest('Invalid JSON payload received. Expected an object.');
  const parsed = parseMessage(raw);
  throwIfAny(parsed.violations);
  const body = parsed.value;
  const violations: FieldViolation[] = [];
  const violate = (field: string, description: string) => violations.push({ field, description });

  // The source model: exactly one of base_model and pre_tuned_model (both: refused by the parser).
  let model: CatalogModel | undefined;
  let preTuned: TunedModelInfo | undefined;
  const baseModel = body.baseModel as string | undefined;
  const pre = body.preTunedModel as Record<string, string> | undefined;
  if (pre !== undefined) {
    const name = pre.tunedModelName;
    if (!name) violate('pre_tuned_model.tuned_model_name', 'Tuned model name is required.');
    else if (!tunedModelName.test(name)) {
      violate(
        'pre_tuned_model.tuned_model_name',
        `Invalid tuned model name ${name}: expected projects/{project}/locations/{location}/models/{model}[@{version}].`,
      );
    } else {
      preTuned = context.findTunedModel(name);
      if (!preTuned) throw notFound(`Model ${name} does not exist or is not a model tuned by a tuning job.`);
      if (pre.checkpointId && !preTuned.checkpointIds.includes(pre.checkpointId)) {
        violate(
          'pre_tuned_model.checkpoint_id',
          `Checkpoint ${pre.checkpointId} does not exist for ${preTuned.name}; its checkpoints: ${preTuned.checkpointIds.join(', ') || 'none'}.`,
        );
      }
      // Output only: whatever the caller sent, the base comes from the tuned model.
      body.preTunedModel = { ...pre, baseModel: preTuned.baseModel };
      model = findCatalogModel(context.catalog, preTuned.baseModel, 'vertex');
      if (model?.continuousTuning === false) {
        throw failedPrecondition(`Continuous tuning is not supported for base model ${model.id}.`);
      }
      model ??= resolveModel(context.catalog, preTuned.baseModel, {
        today: context.today,
        provider: 'vertex',
      }).model;
    }
  } else if (!baseModel) {
    violate('base_model', 'Either base_model or pre_tuned_model is required.');
  } else {
    const resolution = resolveModel(context.catalog, baseModel, { today: context.today, provider: 'vertex' });
    if (resolution.kind === 'retired') {
      violate(
        'base_model',
        `Base model ${bareModelId(baseModel)} is not supported for tuning: ${resolution.message}.`,
      );
    }
    model = resolution.model;
  }

  const spec = body.supervisedTuningSpec as Record<string, unknown> | undefined;
  let trainingDatasetUri = '';
  let validationDatasetUri: string | undefined;
  let epochCount: number | undefined;
  const preference = body.preferenceOptimizationSpec;
  if (!spec && preference === undefined) {
    violate('supervised_tuning_spec', 'Supervised tuning spec is required.');
  } else if (!spec) {
    // Read for its dataset only: the emulator runs a preference job like a supervised one.
    const uri = isObject(preference) ? preference.trainingDatasetUri : undefined;
    if (typeof uri === 'string' && uri.startsWith('gs://')) trainingDatasetUri = uri;
    else
      violate(
        'preference_optimization_spec.training_dataset_uri',
        'Training dataset uri must be a Cloud Storage URI (gs://).',
      );
  }
  if (spec) {
    const training = spec.trainingDatasetUri as string | undefined;
    if (!training) {
      violate('supervised_tuning_spec.training_dataset_uri', 'Training dataset uri is required.');
    } else if (!training.startsWith('gs://')) {
      violate(
        'supervised_tuning_spec.training_dataset_uri',
        'Training dataset uri must be a Cloud Storage URI (gs://).',
      );
    } else {
      trainingDatasetUri = training;
    }
    const validation = spec.validationDatasetUri as string | undefined;
    if (validation !== undefined && validation !== '') {
      if (!validation.startsWith('gs://')) {
        violate(
          'supervised_tuning_spec.validation_dataset_uri',
          'Validation dataset uri must be a Cloud Storage URI (gs://).',
        );
      } else {
        validationDatasetUri = validation;
      }
    }
    const hyper = (spec.hyperParameters ?? {}) as Record<string, unknown>;
    if (hyper.epochCount !== undefined) {
      epochCount = Number(hyper.epochCount);
      if (epochCount <= 0) {
        violate(
          'supervised_tuning_spec.hyper_parameters.epoch_count',
          'Epoch count must be a positive integer.',
        );
      }
    }
    const lrm = hyper.learningRateMultiplier as number | undefined;
    if (lrm !== undefined && !(lrm > 0)) {
      violate(
        'supervised_tuning_spec.hyper_parameters.learning_rate_multiplier',
        'Learning rate multiplier must be positive.',
      );
    }
    const rank =
      hyper.adapterSize === undefined ? undefined : adapterRank[hyper.adapterSize as AdapterSizeName];
    const issue = rank !== undefined && model ? adapterSizeIssue(model, rank) : undefined;
    if (issue && model?.adapterSizes) {
      violate(
        'supervised_tuning_spec.hyper_parameters.adapter_size',
        `Unsupported adapter size ${String(hyper.adapterSize)} for ${model.id}: ${issue} (${model.adapterSizes.map(adapterName).join(', ')}).`,
      );
    }
  }

  const displayName = body.tunedModelDisplayName as string | undefined;
  if (displayName !== undefined && [...displayName].length > 128) {
    violate(
      'tuned_model_display_name',
      'Tuned model display name must be a string of at most 128 characters.',
    );
  }

  const labels = body.labels as Record<string, string> | undefined;
  if (labels !== undefined) {
    if (Object.keys(labels).length > 64) violate('labels', 'At most 64 labels are allowed.');
    for (const [key, value] of Object.entries(labels)) {
      if (!labelKey.test(key)) {
        violate(
          `labels[${key}]`,
          'Label keys must start with a lowercase letter and contain only lowercase letters, digits, underscores and dashes, up to 63 characters.',
        );
      }
      if (!labelValue.test(value)) {
        violate(
          `labels[${key}]`,
          'Label values must contain only lowercase letters, digits, underscores and dashes, up to 63 characters.',
        );
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
  if (!model) throw new ApiError(500, 'INTERNAL', 'No model resolved for a valid request.');
  const result: CreateRequest = {
    body,
    model,
    trainingDatasetUri,
    exportLastCheckpointOnly: spec?.exportLastCheckpointOnly === true,
  };
  if (preTuned) result.preTuned = preTuned;
  if (validationDatasetUri) result.validationDatasetUri = validationDatasetUri;
  if (epochCount !== undefined) result.epochCount = epochCount;
  return result;
}
