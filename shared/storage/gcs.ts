/**
 * Cloud Storage through @google-cloud/storage. An error answer becomes a BlobAccessError carrying
 * its HTTP status, so a caller can tell a permanent 403/404 (report it) from a 429/5xx (throw, the
 * platform retries); `stat` answers a 404 with undefined. Network errors are left as raised.
 */

import type { Readable } from 'node:stream';
import type { File, FileMetadata, Storage } from '@google-cloud/storage';
import { DestinationExistsError, fromGcsError, mapStreamErrors } from './errors.ts';
import { assertPinDestination, assertWritable } from './paths.ts';
import type { BlobInfo, BlobStore, BlobVersion, CopyOptions, ReadOptions } from './types.ts';

export interface GcsBlobStoreOptions {
  storage: Storage;
}

function isNotFound(error: unknown): boolean {
  return (error as { code?: unknown }).code === 404;
}

function infoOf(bucket: string, name: string, metadata: FileMetadata): BlobInfo {
  const custom = Object.entries(metadata.metadata ?? {})
    .filter(([, value]) => value !== null && value !== undefined)
    .map(([key, value]) => [key, String(value)]);
  return {
    bucket,
    name,
    size: Number(metadata.size ?? 0),
    generation: String(metadata.generation ?? ''),
    contentType: metadata.contentType,
    metadata: Object.fromEntries(custom),
    updateTime: metadata.updated ?? metadata.timeCreated ?? '',
  };
}

export function createGcsBlobStore(options: GcsBlobStoreOptions): BlobStore {
  // With a generation, Cloud Storage serves that generation or answers 404: never newer bytes.
  const file = (bucket: string, name: string, read?: ReadOptions): File =>
    options.storage
      .bucket(bucket)
      .file(name, read?.generation === undefined ? {} : { generation: read.generation });

  return {
    read(bucket: string, name: string, read?: ReadOptions): Readable {
      return mapStreamErrors(file(bucket, name, read).createReadStream({ validation: false }), (error) =>
        fromGcsError(error, bucket, name, read?.generation),
      );
    },

    async readText(bucket: string, name: string, read?: ReadOptions): Promise<string> {
      try {
        const [contents] = await file(bucket, name, read).download();
        return contents.toString('utf8');
      } catch (error) {
        throw fromGcsError(error, bucket, name, read?.generation);
      }
    },

    async stat(bucket: string, name: string): Promise<BlobInfo | undefined> {
      try {
        const [metadata] = await file(bucket, name).getMetadata();
        return infoOf(bucket, name, metadata);
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw fromGcsError(error, bucket, name);
      }
    },

    async write(bucket: string, name: string, data: string | Buffer, contentType: string): Promise<void> {
      assertWritable(name);
      // A single-request upload is atomic: the object appears whole or not at all.
      try {
        await file(bucket, name).save(typeof data === 'string' ? Buffer.from(data) : data, {
          contentType,
          resumable: false,
        });
      } catch (error) {
        throw fromGcsError(error, bucket, name);
      }
    },

    async copy(
      source: BlobVersion,
      destination: { bucket: string; name: string },
      copy?: CopyOptions,
    ): Promise<BlobInfo> {
      assertPinDestination(destination.name);
      // objects.rewrite with sourceGeneration: exactly that generation is copied, or 404 if it is
      // gone; ifGenerationMatch: 0 creates the destination only if it does not exist (412
      // otherwise), which also makes the call safe for the client to retry. Large objects may
      // take several rewrite calls; the client follows the rewrite token.
      const to = options.storage.bucket(destination.bucket).file(destination.name);
      try {
        const [, response] = await file(source.bucket, source.name, { generation: source.generation }).copy(
          to,
          {
            preconditionOpts: { ifGenerationMatch: 0 },
            ...(copy?.metadata ? { metadata: copy.metadata } : {}),
            ...(copy?.contentType ? { contentType: copy.contentType } : {}),
          },
        );
        const resource = (response as { resource?: FileMetadata } | undefined)?.resource;
        if (resource) return infoOf(destination.bucket, destination.name, resource);
        const [metadata] = await to.getMetadata();
        return infoOf(destination.bucket, destination.name, metadata);
      } catch (error) {
        if ((error as { code?: unknown }).code === 412) {
          throw new DestinationExistsError(destination.bucket, destination.name, { cause: error });
        }
        // A 404 names the source generation: the destination's bucket is tunedrop's own.
        throw fromGcsError(error, source.bucket, source.name, source.generation);
      }
    },

    async createIfAbsent(bucket: string, name: string, data: string | Buffer, contentType: string) {
      try {
        // ifGenerationMatch 0: the upload succeeds only if no live object has this name.
        await file(bucket, name).save(typeof data === 'string' ? Buffer.from(data) : data, {
          contentType,
          resumable: false,
          preconditionOpts: { ifGenerationMatch: 0 },
        });
      } catch (error) {
        if ((error as { code?: unknown }).code === 412) return undefined;
        throw fromGcsError(error, bucket, name);
      }
      return this.stat(bucket, name);
    },

    async list(bucket: string, prefix: string): Promise<BlobInfo[]> {
      const [files] = await options.storage.bucket(bucket).getFiles({ prefix, autoPaginate: true });
      return files.map((entry) => infoOf(bucket, entry.name, entry.metadata));
    },
  };
}
