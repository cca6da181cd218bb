/**
 * Ingest's side of "validated bytes are trained bytes": every dataset is pinned (copied, one
 * generation, to `validated/<job id>/`) before it is validated, the copy is what is validated,
 * and its URI is what the job's spec (and so the provider) names. See shared/storage/pin.ts.
 */
import { type ModelSpec, validateDataset } from '../../shared/dataset/index.ts';
import type { FieldIssue } from '../../shared/jobs/manifest.ts';
import { parseGcsUri } from '../../shared/jobs/manifest.ts';
import type { PinnedDataset as PinnedSummary, TuningSpec } from '../../shared/jobs/model.ts';
import type { Catalog } from '../../shared/models/index.ts';
import { BlobAccessError, type PinnedDataset } from '../../shared/storage/index.ts';
import type { IngestDeps } from './ingest.ts';
import type { DatasetReport } from './report.ts';

export type Pins = { training?: PinnedDataset; validation?: PinnedDataset };

/**
 * The copy that pins a dataset failed. Cloud Storage refusing for good (403: tunedrop may not read
 * the source or create under validated/; 404: the generation is gone) means the job cannot start
 * on validated bytes: a problem, reported, no job. Anything else is rethrown (429, 5xx: retried).
 */
export function unpinnable(error: unknown, path: string, uri: string): FieldIssue {
  if (!(error instanceof BlobAccessError) || !error.permanent) throw error;
  const reason =
    error.status === 403
      ? 'tunedrop may not read it or may not write under validated/ (403): grant the ingest service account roles/storage.objectViewer on the source bucket and roles/storage.objectCreator on the tunedrop bucket'
      : 'that generation no longer exists (404)';
  return {
    path,
    message: `${uri} could not be pinned (copied to validated/), so it cannot be trained on: ${reason}`,
  };
}

/** Validates a pinned copy at its generation: exactly the bytes the provider will read. */
export async function validatePinned(
  deps: Pick<IngestDeps, 'blobs' | 'validation' | 'config'>,
  pinned: PinnedDataset,
  spec: TuningSpec,
  role: 'training' | 'validation',
  check: {
    /** The resolved catalog entry (preflight's): its model issues are reported with the spec. */
    model: ModelSpec;
    unknownModel: boolean;
    catalog: Catalog;
    strict?: boolean;
  },
): Promise<DatasetReport> {
  const report = await validateDataset(
    deps.blobs.read(pinned.bucket, pinned.name, { generation: pinned.generation }),
    {
      // The budget gate's estimate comes from tokenizer counts of a sample (token-estimate.ts).
      ...(deps.config.tokenSample === undefined ? {} : { tokenSample: deps.config.tokenSample }),
      ...deps.validation,
      model: check.model,
      unknownModel: check.unknownModel,
      catalog: check.catalog,
      strict: check.strict ?? false,
      role,
      // Errors name the user's file, not tunedrop's copy of it.
      fileName: parseGcsUri(pinned.sourceUri)?.object ?? pinned.name,
      ...(role === 'training' && spec.epochCount !== undefined ? { epochs: spec.epochCount } : {}),
    },
  );
  return {
    uri: pinned.sourceUri,
    pinned: { uri: pinned.uri, generation: pinned.generation, sourceGeneration: pinned.sourceGeneration },
    ...report,
  };
}

export function pinnedSummary(pinned: PinnedDataset): PinnedSummary {
  return {
    uri: pinned.uri,
    generation: pinned.generation,
    sourceUri: pinned.sourceUri,
    sourceGeneration: pinned.sourceGeneration,
  };
}
