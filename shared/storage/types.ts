/**
 * Blob access for the pipeline: Cloud Storage when deployed, a local folder for the local stack.
 * Only what tunedrop needs; nothing here deletes or overwrites a user's upload.
 */
import type { Readable } from 'node:stream';

export interface BlobInfo {
  bucket: string;
  name: string;
  size: number;
  generation: string;
  contentType?: string;
  /** Custom metadata (`x-goog-meta-*`), e.g. base-model and epoch-count overrides. */
  metadata: Record<string, string>;
  updateTime: string;
}

/** Which version of an object to read. */
export interface ReadOptions {
  /**
   * Read exactly this generation (the one an event or a `stat` named). If the object has been
   * replaced (or deleted) since, the read fails with a StaleGenerationError (a permanent 404)
   * instead of returning another upload's bytes.
   */
  generation?: string;
}

/** One generation of one object: what a pinned copy is made from. */
export interface BlobVersion {
  bucket: string;
  name: string;
  generation: string;
}

export interface CopyOptions {
  /** Custom metadata of the copy (replaces the source's): where it came from. */
  metadata?: Record<string, string>;
  contentType?: string;
}

export interface BlobStore {
  /** Streams an object's bytes; the stream errors if the object (or that generation) does not exist. */
  read(bucket: string, name: string, options?: ReadOptions): Readable;
  readText(bucket: string, name: string, options?: ReadOptions): Promise<string>;
  stat(bucket: string, name: string): Promise<BlobInfo | undefined>;
  /** Writes tunedrop's own output (reports). Refuses to write under `incoming/`. */
  write(bucket: string, name: string, data: string | Buffer, contentType: string): Promise<void>;
  list(bucket: string, prefix: string): Promise<BlobInfo[]>;
  /**
   * Server-side copy of exactly `source.generation` to `destination` (under `validated/` only),
   * created only if absent: Cloud Storage's rewrite with `sourceGeneration` and
   * `ifGenerationMatch: 0`. A source generation that is gone fails with a StaleGenerationError; an
   * existing destination with a DestinationExistsError (412), whatever its bytes: the caller decides.
   * Returns the copy as written.
   */
  copy(
    source: BlobVersion,
    destination: { bucket: string; name: string },
    options?: CopyOptions,
  ): Promise<BlobInfo>;
  /**
   * Creates an object that does not exist yet, anywhere in the bucket (incoming/ included: the
   * API's `jobs/{id}:continue` drops its manifest there, for ingest to validate). Never replaces
   * anything: when the object exists, nothing is written and undefined is returned.
   */
  createIfAbsent?(
    bucket: string,
    name: string,
    data: string | Buffer,
    contentType: string,
  ): Promise<BlobInfo | undefined>;
}
