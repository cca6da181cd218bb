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

export interface BlobStore {
  /** Streams an object's bytes; the stream errors if the object does not exist. */
  read(bucket: string, name: string): Readable;
  readText(bucket: string, name: string): Promise<string>;
  stat(bucket: string, name: string): Promise<BlobInfo | undefined>;
  /** Writes tunedrop's own output (reports). Refuses to write under `incoming/`. */
  write(bucket: string, name: string, data: string | Buffer, contentType: string): Promise<void>;
  list(bucket: string, prefix: string): Promise<BlobInfo[]>;
}
