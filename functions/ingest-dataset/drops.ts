/**
 * What each kind of upload becomes before ingest concludes: a single JSONL file (settings from
 * its metadata and the deployment's defaults) or a tuning.json manifest (its datasets resolved,
 * read at pinned generations, and validated).
 */
import { ConfigError } from '../../shared/config/index.ts';
import { validationShareWarning } from '../../shared/dataset/index.ts';
import { TransientError } from '../../shared/errors/index.ts';
import { effectivePolicy } from '../../shared/jobs/approval.ts';
import { resolvePreTunedBase } from '../../shared/jobs/continuous-tuning.ts';
import {
  approvalPolicyOf,
  type FieldIssue,
  formatIssue,
  manifestFileName,
  metadataOverrideKeys,
  parseGcsUri,
  parseManifest,
  parseMetadataOverrides,
  resolveDatasetRef,
  specFromManifest,
} from '../../shared/jobs/manifest.ts';
import type { TuningSpec } from '../../shared/jobs/model.ts';
import { type PreflightContext, preflightSpec } from '../../shared/jobs/preflight.ts';
import type { Logger } from '../../shared/logging/index.ts';
import { builtinCatalog, type Catalog, CatalogError, todayUtc } from '../../shared/models/index.ts';
import {
  BlobAccessError,
  type BlobInfo,
  type PinnedDataset,
  pinGeneration,
  StaleGenerationError,
  validatedNameFor,
} from '../../shared/storage/index.ts';
import { baseReport, conclude, dropUndefined, gsUri, type Ref, writeReport } from './conclude.ts';
import type { IngestDeps, IngestOutcome } from './ingest.ts';
import * as logs from './logs.ts';
import { type Pins, unpinnable, validatePinned } from './pinning.ts';
import type { IngestReport } from './report.ts';

/** Display name for a single-file drop: the file name without `.jsonl`, at most 128 characters. */
export function defaultDisplayName(objectName: string): string {
  const base = (objectName.split('/').pop() ?? objectName).replace(/\.jsonl$/, '');
  return [...(base || 'tunedrop')].slice(0, 128).join('');
}

/**
 * The catalog and the day the checks run with. An override that cannot be read or is invalid is
 * the operator's configuration error, not the upload's: it is thrown as such (the event is
 * redelivered until the catalog is fixed or the event is too old), never reported as the
 * dataset's fault.
 */
export async function checkContext(deps: IngestDeps): Promise<PreflightContext> {
  let catalog: Catalog;
  try {
    catalog = deps.catalog ? await deps.catalog() : builtinCatalog();
  } catch (error) {
    if (error instanceof CatalogError) throw new ConfigError(`TUNEDROP_MODEL_CATALOG: ${error.message}`);
    throw error;
  }
  return { catalog, today: todayUtc(deps.clock()), region: deps.config.region, allowed: deps.config.allowed };
}

/** A read of `ref` itself at its generation found a newer upload (not a dataset a manifest names). */
export function isStale(error: unknown, ref: Ref): error is StaleGenerationError {
  return (
    error instanceof StaleGenerationError &&
    error.bucket === ref.bucket &&
    error.object === ref.object &&
    error.generation === ref.generation
  );
}

export async function ingestSingleFile(
  deps: IngestDeps,
  logger: Logger,
  ref: Ref,
  jobId: string,
  info: BlobInfo,
): Promise<IngestOutcome> {
  const problems: FieldIssue[] = [];
  const notes: string[] = [];
  const overrides = parseMetadataOverrides(info.metadata);
  const o = overrides.ok ? overrides.value : { unknownKeys: [] };
  if (!overrides.ok)
    problems.push(...overrides.issues.map((issue) => ({ ...issue, path: `/metadata${issue.path}` })));
  for (const key of o.unknownKeys) {
    notes.push(
      `metadata key "${key}" is not a tunedrop override and was ignored (overrides: ${metadataOverrideKeys.join(', ')})`,
    );
  }
  const defaults = deps.config.defaults;
  const spec: TuningSpec = dropUndefined({
    baseModel: o.baseModel ?? defaults.baseModel,
    trainingDatasetUri: gsUri(ref.bucket, ref.object),
    epochCount: o.epochCount ?? defaults.epochCount,
    learningRateMultiplier: o.learningRateMultiplier ?? defaults.learningRateMultiplier,
    adapterSize: o.adapterSize ?? defaults.adapterSize,
    tunedModelDisplayName: o.tunedModelDisplayName ?? defaultDisplayName(ref.object),
    labels: {},
  });
  const context = await checkContext(deps);
  const preflight = preflightSpec(spec, context);
  if (overrides.ok) problems.push(...preflight.issues);
  notes.push(...preflight.warnings.map(formatIssue));
  const approval = effectivePolicy(deps.config.approval, o.approval);
  if (approval.warning) notes.push(approval.warning);

  const datasets: IngestReport['datasets'] = {};
  const pins: Pins = {};
  if (!preflight.retired) {
    // The event's generation is pinned; if it is gone already, the StaleGenerationError makes this
    // event stale (ingestObject acknowledges it), like a read of it would.
    const source = { ...ref, name: ref.object, contentType: info.contentType };
    try {
      pins.training = await pinGeneration(deps.blobs, source, {
        bucket: ref.bucket,
        name: validatedNameFor(jobId, 'training', ref.object),
      });
    } catch (error) {
      if (isStale(error, ref)) throw error;
      problems.push(unpinnable(error, '', gsUri(ref.bucket, ref.object)));
    }
    if (pins.training) {
      spec.trainingDatasetUri = pins.training.uri;
      datasets.training = await validatePinned(deps, pins.training, spec, 'training', {
        model: preflight.model,
        unknownModel: preflight.unknown,
        catalog: context.catalog,
        strict: o.strict ?? false,
      });
    }
  }
  return conclude(deps, logger, ref, jobId, {
    kind: 'dataset',
    problems,
    notes,
    spec,
    policy: approval.policy,
    datasets,
    pins,
  });
}

export async function ingestManifest(
  deps: IngestDeps,
  logger: Logger,
  ref: Ref,
  jobId: string,
): Promise<IngestOutcome> {
  const problems: FieldIssue[] = [];
  const notes: string[] = [];
  // The effective catalog: a model only the operator's override knows implies its provider.
  const context = await checkContext(deps);
  const { catalog } = context;
  const parsed = parseManifest(
    await deps.blobs.readText(ref.bucket, ref.object, { generation: ref.generation }),
    { catalog },
  );
  if (!parsed.ok) {
    return conclude(deps, logger, ref, jobId, {
      kind: 'manifest',
      problems: parsed.issues,
      notes,
      datasets: {},
    });
  }
  const manifest = parsed.value;
  const at = { bucket: ref.bucket, name: ref.object };
  const resolve = (field: string, value: string | undefined): string | undefined => {
    if (value === undefined) return undefined;
    const resolved = resolveDatasetRef(value, at);
    if (resolved.ok) return resolved.value;
    problems.push(...resolved.issues.map((issue) => ({ ...issue, path: `/${field}` })));
    return undefined;
  };
  const trainingUri = resolve('trainingDataset', manifest.trainingDataset);
  const validationUri = resolve('validationDataset', manifest.validationDataset);
  // Continuous tuning: the dataset is checked against the base model of the tuned model.
  let preTunedBase: string | undefined;
  if (manifest.preTunedModel) {
    const resolved = await resolvePreTunedBase(manifest.preTunedModel, {
      store: deps.store,
      provider: deps.provider,
      catalog,
    });
    if (resolved.ok) {
      preTunedBase = resolved.baseModel;
      notes.push(...resolved.notes);
    } else {
      problems.push(...resolved.issues);
    }
  }
  const spec = specFromManifest(
    manifest,
    deps.config.defaults,
    { training: trainingUri ?? '', validation: validationUri },
    preTunedBase,
    { catalog },
  );
  if (problems.length > 0)
    return conclude(deps, logger, ref, jobId, { kind: 'manifest', problems, notes, datasets: {} });
  const preflight = preflightSpec(spec, context);
  problems.push(...preflight.issues);
  notes.push(...preflight.warnings.map(formatIssue));
  if (spec.provider === 'yandex' && !deps.config.yandex) {
    problems.push({
      path: '/provider',
      message:
        'Yandex AI Studio is not configured on this deployment (an operator sets TUNEDROP_YANDEX_FOLDER_ID and its credentials)',
    });
  }
  const approval = effectivePolicy(
    deps.config.approval,
    manifest.approval && approvalPolicyOf(manifest.approval),
  );
  if (approval.warning) notes.push(approval.warning);

  // Datasets that are not there yet: one inside the manifest's folder may still be uploaded (its
  // upload re-runs this manifest); one elsewhere is a mistake.
  const folder = ref.object.slice(0, ref.object.length - manifestFileName.length);
  const missing: string[] = [];
  const named: [string, string, 'training' | 'validation'][] = [
    ['trainingDataset', spec.trainingDatasetUri, 'training'],
  ];
  if (spec.validationDatasetUri) named.push(['validationDataset', spec.validationDatasetUri, 'validation']);
  const found: { training?: BlobInfo; validation?: BlobInfo } = {};
  for (const [field, uri, role] of named) {
    const location = parseGcsUri(uri)!;
    try {
      found[role] = await deps.blobs.stat(location.bucket, location.object);
    } catch (error) {
      problems.push(unreadableDataset(error, `/${field}`, uri));
      continue;
    }
    if (found[role]) continue;
    if (location.bucket === ref.bucket && location.object.startsWith(folder)) missing.push(uri);
    else problems.push({ path: `/${field}`, message: `${uri} does not exist` });
  }
  if (missing.length > 0 && problems.length === 0) {
    const report = baseReport(deps, ref, jobId, 'manifest', 'waiting', problems, notes);
    report.missing = missing;
    report.spec = spec;
    const reportUri = await writeReport(deps, ref, report);
    logs.logWaiting(logger, ref, missing);
    return { outcome: 'waiting', jobId, reportUri, missing };
  }
  const datasets: IngestReport['datasets'] = {};
  const pins: Pins = {};
  if (problems.length === 0) {
    for (const [field, uri, role] of named) {
      const location = parseGcsUri(uri)!;
      const info = found[role]!;
      // The generation just stat'ed is the one pinned, validated and trained on, wherever it
      // lives (this bucket's incoming/ or another bucket): later uploads change nothing.
      const source = {
        bucket: location.bucket,
        name: location.object,
        generation: info.generation,
        contentType: info.contentType,
      };
      let pinned: PinnedDataset;
      try {
        pinned = await pinGeneration(deps.blobs, source, {
          bucket: ref.bucket,
          name: validatedNameFor(jobId, role, location.object),
        });
      } catch (error) {
        if (error instanceof StaleGenerationError) {
          // Gone since the stat: deleted (a 404 problem, like a dataset that never existed) or
          // replaced (transient: the redelivered event pins the new generation).
          if (await deps.blobs.stat(location.bucket, location.object)) {
            throw new TransientError(`${uri} was replaced while tunedrop pinned it`, 'dataset-replaced', {
              cause: error,
            });
          }
          problems.push(unreadableDataset(error, `/${field}`, uri));
        } else {
          problems.push(unpinnable(error, `/${field}`, uri));
        }
        continue;
      }
      if (pinned.sourceGeneration !== info.generation) {
        notes.push(
          `${field}: validated generation ${pinned.sourceGeneration} of ${uri}, pinned by an earlier attempt of this job; generation ${info.generation} uploaded since is not used`,
        );
      }
      pins[role] = pinned;
      try {
        datasets[role] = await validatePinned(deps, pinned, spec, role, {
          model: preflight.model,
          unknownModel: preflight.unknown,
          catalog: context.catalog,
          strict: manifest.strict ?? false,
        });
      } catch (error) {
        problems.push(unreadableDataset(error, `/${field}`, pinned.uri));
      }
    }
    const { training, validation } = datasets;
    const share =
      training &&
      validation &&
      validationShareWarning(preflight.model, training.examples, validation.examples);
    if (share && validation) validation.warnings.unshift(share);
  }
  const pinnedSpec: TuningSpec = dropUndefined({
    ...spec,
    ...(pins.training ? { trainingDatasetUri: pins.training.uri } : {}),
    ...(pins.validation ? { validationDatasetUri: pins.validation.uri } : {}),
  });
  return conclude(deps, logger, ref, jobId, {
    kind: 'manifest',
    problems,
    notes,
    spec: pinnedSpec,
    policy: approval.policy,
    datasets,
    pins,
  });
}

/**
 * A dataset the manifest names that Cloud Storage refuses for good (403: tunedrop may not read
 * it, typically another bucket; 404: it is gone) is a problem with the manifest: reported, never
 * retried. Anything else (429, 5xx, network) is rethrown so the platform redelivers.
 */
export function unreadableDataset(error: unknown, path: string, uri: string): FieldIssue {
  if (!(error instanceof BlobAccessError) || !error.permanent) throw error;
  const message =
    error.status === 403
      ? `${uri} is not readable by tunedrop (403): grant the ingest service account roles/storage.objectViewer on that bucket`
      : `${uri} was not found (404): check the bucket and object name, and that the object still exists`;
  return { path, message };
}
