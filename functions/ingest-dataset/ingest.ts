/**
 * ingest-dataset's core, free of any Functions Framework import: a finalized upload becomes a
 * validation report and either a rejection, a DRAFT awaiting approval, or exactly one provider job.
 *
 * Failure model (DESIGN.md): a permanent problem (bad dataset, bad manifest, bad metadata, a
 * dataset the manifest names that Cloud Storage refuses with 403 or 404) is reported and
 * acknowledged; anything else (storage 429/5xx, Firestore, Pub/Sub unavailable) throws so the
 * platform redelivers, until the event is older than `eventMaxAgeMs`. Every step is idempotent:
 * the job id comes from bucket/object#generation, the record is created atomically, the start goes
 * through startJob's intent protocol, and events carry stable ids.
 */
import { type Config, ConfigError } from '../../shared/config/index.ts';
import {
  type ModelSpec,
  type ValidateOptions,
  type ValidationReport,
  validationShareWarning,
} from '../../shared/dataset/index.ts';
import { TransientError } from '../../shared/errors/index.ts';
import {
  buildDatasetRejectedEvent,
  type DatasetErrorSample,
  type EventPublisher,
  publishPending,
  withCreationEvent,
} from '../../shared/events/index.ts';
import { approvalDecision, effectivePolicy } from '../../shared/jobs/approval.ts';
import { resolvePreTunedBase } from '../../shared/jobs/continuous-tuning.ts';
import {
  approvalPolicyOf,
  type FieldIssue,
  formatIssue,
  manifestFileName,
  metadataOverrideKeys,
  type PreflightContext,
  parseGcsUri,
  parseManifest,
  parseMetadataOverrides,
  preflightSpec,
  resolveDatasetRef,
  specFromManifest,
} from '../../shared/jobs/manifest.ts';
import {
  type CostEstimate,
  isTerminal,
  type JobRecord,
  JobRecord as JobRecordSchema,
  jobIdFor,
  type TuningSpec,
} from '../../shared/jobs/model.ts';
import { type RejectionStore, rejectionRecordFrom } from '../../shared/jobs/rejection.ts';
import { type StartJobDeps, startDepsFrom, startJob } from '../../shared/jobs/start-job.ts';
import type { JobStore } from '../../shared/jobs/store-types.ts';
import type { Logger } from '../../shared/logging/index.ts';
import { builtinCatalog, type Catalog, CatalogError, todayUtc } from '../../shared/models/index.ts';
import type { TuningProvider } from '../../shared/providers/types.ts';
import {
  BlobAccessError,
  type BlobInfo,
  type BlobStore,
  type PinnedDataset,
  pinGeneration,
  reportNameFor,
  StaleGenerationError,
  validatedNameFor,
} from '../../shared/storage/index.ts';
import * as logs from './logs.ts';
import { type Pins, pinnedSummary, unpinnable, validatePinned } from './pinning.ts';
import type { DatasetReport, IngestReport } from './report.ts';
import { reportFormatVersion } from './report.ts';
import { routeObject } from './routing.ts';
import type { StorageObjectData } from './storage-event.ts';

export interface IngestDeps {
  /** maxConcurrentJobs: new uploads wait QUEUED while the provider is full (none: no cap here). */
  config: Pick<Config, 'project' | 'defaults' | 'approval' | 'eventMaxAgeMs'> &
    Partial<
      Pick<
        Config,
        'maxConcurrentJobs' | 'allowed' | 'tokenSample' | 'region' | 'autoApproveMaxUsd' | 'yandex'
      >
    >;
  /**
   * The effective model catalog (built-in merged with TUNEDROP_MODEL_CATALOG), loaded once per
   * instance (catalogLoader in shared/models). None: the built-in catalog.
   */
  catalog?: () => Promise<Catalog>;
  store: JobStore;
  /** Where rejected uploads are recorded, so they can be found by id and listed (REJECTED). */
  rejections?: RejectionStore;
  provider: TuningProvider;
  publisher: EventPublisher;
  blobs: BlobStore;
  logger: Logger;
  clock: () => Date;
  /** Backoff and intent timeout for startJob; its defaults otherwise. */
  start?: Pick<StartJobDeps, 'backoff' | 'intentTimeoutMs' | 'random' | 'lookupSettleMs'>;
  /** Validator options (token sample for the estimate, error cap...). */
  validation?: Pick<ValidateOptions, 'tokenSample' | 'maxErrors' | 'maxLineBytes' | 'loadCounter'>;
}

export interface IngestEvent {
  object: StorageObjectData;
  /** The CloudEvent's `time`; the object's update time when absent. */
  eventTime?: string;
  eventId?: string;
}

export type IngestOutcome =
  | { outcome: 'ignored'; reason: string }
  | { outcome: 'too-old'; ageMs: number }
  | { outcome: 'rejected'; jobId: string; reportUri: string; errorCount: number }
  | { outcome: 'waiting'; jobId: string; reportUri: string; missing: string[] }
  | { outcome: 'job'; job: JobRecord; created: boolean };

interface Ref {
  bucket: string;
  object: string;
  generation: string;
}

const gsUri = (bucket: string, name: string) => `gs://${bucket}/${name}`;

/** Display name for a single-file drop: the file name without `.jsonl`, at most 128 characters. */
export function defaultDisplayName(objectName: string): string {
  const base = (objectName.split('/').pop() ?? objectName).replace(/\.jsonl$/, '');
  return [...(base || 'tunedrop')].slice(0, 128).join('');
}

/** The job record's estimate from the training report; none when the model has no price. */
export function jobEstimate(report: ValidationReport): CostEstimate | undefined {
  const cost = report.stats.estimate.cost;
  if (
    !cost ||
    cost.estimatedUsd === null ||
    cost.pricePerMillionTrainingTokens === null ||
    !cost.pricesTakenOn
  ) {
    return undefined;
  }
  return dropUndefined({
    billableTokens: cost.billableTokens.estimated,
    epochs: cost.epochs,
    usdPerMillionTokens: cost.pricePerMillionTrainingTokens,
    costUsd: cost.estimatedUsd,
    method: cost.method,
    priceDate: cost.pricesTakenOn,
    priceSource: cost.priceSource ?? undefined,
  });
}

/**
 * The catalog and the day the checks run with. An override that cannot be read or is invalid is
 * the operator's configuration error, not the upload's: it is thrown as such (the event is
 * redelivered until the catalog is fixed or the event is too old), never reported as the
 * dataset's fault.
 */
async function checkContext(deps: IngestDeps): Promise<PreflightContext> {
  let catalog: Catalog;
  try {
    catalog = deps.catalog ? await deps.catalog() : builtinCatalog();
  } catch (error) {
    if (error instanceof CatalogError) throw new ConfigError(`TUNEDROP_MODEL_CATALOG: ${error.message}`);
    throw error;
  }
  return { catalog, today: todayUtc(deps.clock()), region: deps.config.region, allowed: deps.config.allowed };
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
}

export async function ingestObject(deps: IngestDeps, event: IngestEvent): Promise<IngestOutcome> {
  const { object } = event;
  const ref: Ref = { bucket: object.bucket, object: object.name, generation: object.generation };
  const logger = deps.logger.child(event.eventId ? { eventId: event.eventId } : {});

  const eventTime = event.eventTime ?? object.updated ?? object.timeCreated;
  const ageMs = eventTime ? deps.clock().getTime() - Date.parse(eventTime) : 0;
  if (ageMs > deps.config.eventMaxAgeMs) {
    logs.logEventTooOld(logger, ref, ageMs, deps.config.eventMaxAgeMs);
    return { outcome: 'too-old', ageMs };
  }
  const ignore = (reason: string): IngestOutcome => {
    logs.logIgnored(logger, ref, reason);
    return { outcome: 'ignored', reason };
  };
  if (object.metageneration !== '1') {
    return ignore(`a metadata update (metageneration ${object.metageneration}), not a new upload`);
  }

  const route = routeObject(object.name);
  if (route.kind === 'ignored') return ignore(route.reason);

  if (route.kind === 'dataset' && route.manifestCandidate) {
    const manifest = await deps.blobs.stat(ref.bucket, route.manifestCandidate);
    if (manifest) return datasetInManifestFolder(deps, logger, ref, manifest);
  }

  const jobId = jobIdFor(ref);
  const existing = await deps.store.get(jobId);
  if (existing) {
    logs.logDuplicate(logger, ref, existing);
    return { outcome: 'job', job: await proceed(deps, existing), created: false };
  }

  const info = await deps.blobs.stat(ref.bucket, ref.object);
  if (!info) return ignore('the object no longer exists');
  if (info.generation !== ref.generation) return ignore(`superseded by generation ${info.generation}`);

  // The object is read at the event's generation: a re-upload landing after the stat above must
  // not have its bytes validated under this event's job id. That event is stale, like one whose
  // object was already replaced at the stat, and is acknowledged the same way.
  try {
    const outcome =
      route.kind === 'manifest'
        ? await ingestManifest(deps, logger, ref, jobId)
        : await ingestSingleFile(deps, logger, ref, jobId, {
            ...info,
            metadata: object.metadata ?? info.metadata,
          });
    // One line per processed upload, with the fields the monitoring metrics read (terraform/monitoring.tf).
    const uploaded = Date.parse(object.timeCreated ?? object.updated ?? info.updateTime);
    logs.logIngestFinished(
      logger,
      ref,
      outcome,
      Number.isNaN(uploaded) ? undefined : deps.clock().getTime() - uploaded,
    );
    return outcome;
  } catch (error) {
    if (!isStale(error, ref)) throw error;
    return ignore(
      `superseded by ${error.currentGeneration ? `generation ${error.currentGeneration}` : 'a newer upload'} while it was read`,
    );
  }
}

/** A read of `ref` itself at its generation found a newer upload (not a dataset a manifest names). */
function isStale(error: unknown, ref: Ref): error is StaleGenerationError {
  return (
    error instanceof StaleGenerationError &&
    error.bucket === ref.bucket &&
    error.object === ref.object &&
    error.generation === ref.generation
  );
}

/**
 * A dataset uploaded into a folder whose manifest exists is that manifest's business. If the
 * manifest names this file and has no job yet (it was uploaded first and is waiting for its
 * datasets), this upload may complete it: process the manifest again.
 */
async function datasetInManifestFolder(
  deps: IngestDeps,
  logger: Logger,
  ref: Ref,
  manifest: BlobInfo,
): Promise<IngestOutcome> {
  const manifestRef: Ref = { bucket: ref.bucket, object: manifest.name, generation: manifest.generation };
  const manifestJobId = jobIdFor(manifestRef);
  if (!(await deps.store.get(manifestJobId))) {
    let text: string;
    try {
      text = await deps.blobs.readText(ref.bucket, manifest.name, { generation: manifest.generation });
    } catch (error) {
      // Replaced since the stat: the newer manifest's own event handles the folder.
      if (!isStale(error, manifestRef)) throw error;
      logs.logPartOfManifest(logger, ref, manifest.name);
      return { outcome: 'ignored', reason: `part of manifest ${manifest.name}` };
    }
    const parsed = parseManifest(text);
    const uris = parsed.ok
      ? [parsed.value.trainingDataset, parsed.value.validationDataset]
          .filter((item): item is string => item !== undefined)
          .map((item) => resolveDatasetRef(item, { bucket: ref.bucket, name: manifest.name }))
          .flatMap((resolved) => (resolved.ok ? [resolved.value] : []))
      : [];
    if (uris.includes(gsUri(ref.bucket, ref.object))) {
      logs.logManifestRetriggered(logger, ref, manifest.name);
      return ingestManifest(deps, logger, manifestRef, manifestJobId);
    }
  }
  logs.logPartOfManifest(logger, ref, manifest.name);
  return { outcome: 'ignored', reason: `part of manifest ${manifest.name}` };
}

async function ingestSingleFile(
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

async function ingestManifest(
  deps: IngestDeps,
  logger: Logger,
  ref: Ref,
  jobId: string,
): Promise<IngestOutcome> {
  const problems: FieldIssue[] = [];
  const notes: string[] = [];
  const parsed = parseManifest(
    await deps.blobs.readText(ref.bucket, ref.object, { generation: ref.generation }),
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
      catalog: (await checkContext(deps)).catalog,
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
  );
  if (problems.length > 0)
    return conclude(deps, logger, ref, jobId, { kind: 'manifest', problems, notes, datasets: {} });
  const context = await checkContext(deps);
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
function unreadableDataset(error: unknown, path: string, uri: string): FieldIssue {
  if (!(error instanceof BlobAccessError) || !error.permanent) throw error;
  const message =
    error.status === 403
      ? `${uri} is not readable by tunedrop (403): grant the ingest service account roles/storage.objectViewer on that bucket`
      : `${uri} was not found (404): check the bucket and object name, and that the object still exists`;
  return { path, message };
}

function baseReport(
  deps: IngestDeps,
  ref: Ref,
  jobId: string,
  kind: IngestReport['kind'],
  status: IngestReport['status'],
  problems: FieldIssue[],
  notes: string[],
): IngestReport {
  return {
    reportFormatVersion,
    status,
    kind,
    object: gsUri(ref.bucket, ref.object),
    generation: ref.generation,
    jobId,
    time: deps.clock().toISOString(),
    problems: problems.map(formatIssue),
    notes,
    datasets: {},
  };
}

async function writeReport(deps: IngestDeps, ref: Ref, report: IngestReport): Promise<string> {
  const name = reportNameFor(ref.object);
  await deps.blobs.write(ref.bucket, name, `${JSON.stringify(report, null, 2)}\n`, 'application/json');
  return gsUri(ref.bucket, name);
}

interface Findings {
  kind: IngestReport['kind'];
  problems: FieldIssue[];
  notes: string[];
  spec?: TuningSpec;
  policy?: JobRecord['approval']['policy'];
  datasets: IngestReport['datasets'];
  /** The pinned copies the datasets were validated from (the spec names them). */
  pins?: Pins;
}

/** Writes the report, then rejects (event, no job) or creates the job and starts or drafts it. */
async function conclude(
  deps: IngestDeps,
  logger: Logger,
  ref: Ref,
  jobId: string,
  findings: Findings,
): Promise<IngestOutcome> {
  const { problems, datasets } = findings;
  const reports = [datasets.training, datasets.validation].filter((item): item is DatasetReport => !!item);
  const rejected =
    problems.length > 0 || reports.some((report) => !report.valid) || !findings.spec || !findings.policy;
  const report = baseReport(
    deps,
    ref,
    jobId,
    findings.kind,
    rejected ? 'rejected' : 'accepted',
    problems,
    findings.notes,
  );
  report.datasets = datasets;
  if (findings.spec) report.spec = findings.spec;
  logs.logWarnings(logger, ref, findings.notes);

  if (rejected) {
    const reportUri = await writeReport(deps, ref, report);
    const errors: DatasetErrorSample[] = [
      ...problems.map((issue) => ({
        file: ref.object,
        ...(issue.path ? { field: issue.path } : {}),
        code: 'invalid_setting',
        message: issue.message,
      })),
      ...reports.flatMap((dataset) =>
        dataset.errors.map((error) => ({
          file: dataset.uri,
          ...(error.line > 0 ? { line: error.line } : {}),
          ...(error.path ? { field: error.path } : {}),
          code: error.code,
          message: error.message,
        })),
      ),
    ];
    const errorCount =
      problems.length +
      reports.reduce((sum, dataset) => sum + dataset.errors.length + dataset.errorsOmitted, 0);
    if (problems.length > 0) logs.logSettingsInvalid(logger, ref, problems);
    const now = deps.clock();
    const event = buildDatasetRejectedEvent(
      {
        jobId,
        source: {
          bucket: ref.bucket,
          object: ref.object,
          generation: ref.generation,
          manifest: findings.kind === 'manifest',
        },
        reportUri,
        errorCount,
        errors,
      },
      { now, project: deps.config.project },
    );
    // Recorded first (findable even while the publish is retried), then published directly (the
    // record holds no outbox); a failure throws, the event is redelivered, and the same event id
    // is published again.
    await deps.rejections?.create(rejectionRecordFrom(event));
    await deps.publisher.publish(event);
    logs.logRejected(logger, ref, jobId, errorCount, reportUri);
    return { outcome: 'rejected', jobId, reportUri, errorCount };
  }

  const spec = findings.spec!;
  const policy = findings.policy!;
  const training = datasets.training!;
  const estimate = jobEstimate(training);
  const decision = approvalDecision(
    policy,
    estimate?.costUsd ?? training.stats.estimate.cost?.estimatedUsd ?? null,
    deps.config.autoApproveMaxUsd ?? null,
  );
  const { required } = decision;
  report.approval = dropUndefined({ policy, required, reason: decision.reason });
  if (estimate) report.estimate = estimate;
  const reportUri = await writeReport(deps, ref, report);

  const now = deps.clock();
  const time = now.toISOString();
  const state = required ? 'DRAFT' : 'QUEUED';
  let record: JobRecord = JobRecordSchema.parse(
    dropUndefined({
      id: jobId,
      state,
      createTime: time,
      updateTime: time,
      stateTime: time,
      source: {
        bucket: ref.bucket,
        object: ref.object,
        generation: ref.generation,
        manifest: findings.kind === 'manifest',
      },
      spec,
      approval: dropUndefined({ policy, required, reason: decision.reason }),
      validation: dropUndefined({
        reportUri,
        examples: training.examples,
        validationExamples: datasets.validation?.examples,
        warnings: reports.reduce(
          (sum, dataset) => sum + dataset.warnings.length + dataset.warningsOmitted,
          0,
        ),
        pinned: findings.pins?.training && {
          training: pinnedSummary(findings.pins.training),
          ...(findings.pins.validation ? { validation: pinnedSummary(findings.pins.validation) } : {}),
        },
        priceBasis: training.stats.estimate.cost?.basis,
        droppableExamples: training.stats.droppable,
      }),
      estimate,
      provider: { name: spec.provider ?? deps.provider.name },
      attempts: 0,
      history: [
        {
          state,
          time,
          reason: required ? `awaiting approval: ${decision.reason ?? 'required'}` : 'validated; starting',
        },
      ],
      outbox: [],
    }),
  );
  record = withCreationEvent(record, { now, project: deps.config.project });
  const { created, job } = await deps.store.create(record);
  if (created) logs.logJobCreated(logger, ref, job);
  else logs.logDuplicate(logger, ref, job);
  return { outcome: 'job', job: await proceed(deps, job), created };
}

/** Takes a record as far as ingest can: starts (or resumes starting) it, or flushes its events. */
async function proceed(deps: IngestDeps, job: JobRecord): Promise<JobRecord> {
  const awaitingApproval = job.state === 'DRAFT' && !job.approval.approveTime;
  if (!job.provider.jobName && !isTerminal(job.state) && !awaitingApproval) {
    const started = await startJob(startDepsFrom({ ...deps, ...deps.start }), job.id);
    logs.logJobOutcome(
      deps.logger,
      { bucket: job.source.bucket, object: job.source.object, generation: job.source.generation },
      started,
    );
    return started;
  }
  await publishPending(deps.store, deps.publisher, job.id, deps.logger, { now: deps.clock });
  return (await deps.store.get(job.id)) ?? job;
}
