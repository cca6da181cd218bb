/**
 * Cloud Storage through @google-cloud/storage. Errors other than "not found" are left as the
 * client raised them: the caller (a function) throws them so the platform retries.
 */

import type { Readable } from 'node:stream';
import type { File, FileMetadata, Storage } from '@google-cloud/storage';
import { assertWritable } from './paths.ts';
import type { BlobInfo, BlobStore } from './types.ts';

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
  const file = (bucket: string, name: string): File => options.storage.bucket(bucket).file(name);

  return {
    read(bucket: string, name: string): Readable {
      return file(bucket, name).createReadStream({ validation: false });
    },

    async readText(bucket: string, name: string): Promise<string> {
      const [contents] = await file(bucket, name).download();
      return contents.toString('utf8');
    },

    async stat(bucket: string, name: string): Promise<BlobInfo | undefined> {
      try {
        const [metadata] = await file(bucket, name).getMetadata();
        return infoOf(bucket, name, metadata);
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },

    async write(bucket: string, name: string, data: string | Buffer, contentType: string): Promise<void> {
      assertWritable(name);
      // A single-request upload is atomic: the object appears whole or not at all.
      await file(bucket, name).save(typeof data === 'string' ? Buffer.from(data) : data, {
        contentType,
        resumable: false,
      });
    },

    async list(bucket: string, prefix: string): Promise<BlobInfo[]> {
      const [files] = await options.storage.bucket(bucket).getFiles({ prefix, autoPaginate: true });
      return files.map((entry) => infoOf(bucket, entry.name, entry.metadata));
    },
  };
}
