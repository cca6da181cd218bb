/**
 * Pinning: what a provider trains on must be exactly the bytes tunedrop validated, however long
 * the job waits (a DRAFT approved days later, a job QUEUED for quota). A user can replace
 * `incoming/x.jsonl` at any moment, and a gs:// URI in another bucket is not tunedrop's at all;
 * so the generation that is going to be validated is first copied, server-side, to a
 * tunedrop-owned name under `validated/`, and that copy is what is validated and what the
 * provider receives.
 *
 * The copy is create-if-absent, so a redelivered event reuses the copy an earlier attempt made
 * (and validates the same bytes again) instead of pinning a newer upload under the same job.
 */
import { DestinationExistsError } from './errors.ts';
import type { BlobInfo, BlobStore, BlobVersion } from './types.ts';

/** Custom metadata on every pinned copy: where its bytes came from. */
export const pinnedSourceKeys = {
  uri: 'tunedrop-source',
  generation: 'tunedrop-source-generation',
} as const;

export interface PinnedDataset {
  /** gs:// URI of the pinned copy: what is validated and what the provider reads. */
  uri: string;
  bucket: string;
  name: string;
  /** The copy's own generation (tunedrop never replaces it). */
  generation: string;
  /** gs:// URI of what the user named. */
  sourceUri: string;
  /** The source generation whose bytes the copy holds. */
  sourceGeneration: string;
  /** False when an earlier attempt had already made the copy. */
  created: boolean;
}

const gsUri = (bucket: string, name: string) => `gs://${bucket}/${name}`;

function pinnedOf(info: BlobInfo, source: BlobVersion, created: boolean): PinnedDataset {
  return {
    uri: gsUri(info.bucket, info.name),
    bucket: info.bucket,
    name: info.name,
    generation: info.generation,
    sourceUri: info.metadata[pinnedSourceKeys.uri] ?? gsUri(source.bucket, source.name),
    // An existing copy says which generation it holds; it may be older than `source`.
    sourceGeneration: info.metadata[pinnedSourceKeys.generation] ?? source.generation,
    created,
  };
}

/**
 * Copies `source` (that generation exactly) to `destination`, or returns the copy already there.
 * Errors of the source (a StaleGenerationError when the generation is gone, 403, 429, 5xx) are
 * the caller's to classify.
 */
export async function pinGeneration(
  blobs: BlobStore,
  source: BlobVersion & { contentType?: string },
  destination: { bucket: string; name: string },
): Promise<PinnedDataset> {
  const existing = await blobs.stat(destination.bucket, destination.name);
  if (existing) return pinnedOf(existing, source, false);
  try {
    const copied = await blobs.copy(source, destination, {
      metadata: {
        [pinnedSourceKeys.uri]: gsUri(source.bucket, source.name),
        [pinnedSourceKeys.generation]: source.generation,
      },
      ...(source.contentType ? { contentType: source.contentType } : {}),
    });
    return pinnedOf(copied, source, true);
  } catch (error) {
    // A concurrent delivery of the same event made it between our stat and copy.
    if (!(error instanceof DestinationExistsError)) throw error;
    const raced = await blobs.stat(destination.bucket, destination.name);
    if (!raced) throw error;
    return pinnedOf(raced, source, false);
  }
}
