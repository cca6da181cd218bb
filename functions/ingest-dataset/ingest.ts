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
import type { Config } from '../../shared/config/index.ts';
import type { ValidateOptions } from '../../shared/dataset/index.ts';
import type { EventPublisher } from '../../shared/events/index.ts';
import { parseManifest, resolveDatasetRef } from '../../shared/jobs/manifest.ts';
import { type JobRecord, jobIdFor } from '../../shared/jobs/model.ts';
import type { RejectionStore } from '../../shared/jobs/rejection.ts';
import type { StartJobDeps } from '../../shared/jobs/start-job.ts';
import type { JobStore } from '../../shared/jobs/store-types.ts';
import type { Logger } from '../../shared/logging/index.ts';
import type { Catalog } from '../../shared/models/index.ts';
import type { TuningProvider } from '../../shared/providers/types.ts';
import type { BlobInfo, BlobStore } from '../../shared/storage/index.ts';
import { gsUri, proceed, type Ref } from './conclude.ts';
import { checkContext, ingestManifest, ingestSingleFile, isStale } from './drops.ts';
import * as logs from './logs.ts';
import { routeObject } from './routing.ts';
import type { StorageObjectData } from './storage-event.ts';

export { defaultDisplayName } from './drops.ts';

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
    // The effective catalog, as when the manifest itself was checked: without it a model only the
    // operator's override knows fails to parse, and the manifest would never be re-triggered.
    const { catalog } = await checkContext(deps);
    const parsed = parseManifest(text, { catalog });
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
