/**
 * Where `tunedrop submit` uploads: a Cloud Storage bucket, or the local stack's folder standing in
 * for one. Both refuse to overwrite (an upload under incoming/ is a new job; replacing one would
 * lose the old generation), and both return the generation the job id is derived from.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, link, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Storage } from '@google-cloud/storage';
import { reportNameFor, sidecarNameFor } from '../../shared/storage/index.ts';

export interface PutOptions {
  contentType: string;
  /** Custom metadata (`x-goog-meta-*`), e.g. `{ 'base-model': 'gemini-3.5-flash' }`. */
  metadata?: Record<string, string>;
}

/** The object exists already: nothing was written. */
export class ObjectExistsError extends Error {
  override readonly name = 'ObjectExistsError';
}

export interface BucketTarget {
  readonly bucket: string;
  /** Where an object ends up, for messages: `gs://b/o` or a local path. */
  describe(object: string): string;
  /** Whether an object exists (a check before a multi-object drop writes anything). */
  exists(object: string): Promise<boolean>;
  /** Uploads a local file as a new object; returns its generation. */
  put(object: string, localPath: string, options: PutOptions): Promise<{ generation: string }>;
  /** The validation report ingest wrote for an object, if there is one yet. */
  readReport(object: string): Promise<string | undefined>;
}

/**
 * The local bucket folder. Written like the local store writes: a temp file, then one step into
 * place, so the folder watcher sees one complete file. The temp file lives at the bucket root
 * (hidden, outside incoming/) and is hard-linked into place, which fails instead of replacing
 * an existing object; where hard links are unsupported, a checked rename is the fallback.
 */
export function createLocalTarget(rootDir: string, bucket: string): BucketTarget {
  const root = resolve(rootDir);
  const pathOf = (object: string) => join(root, ...object.split('/'));

  const place = async (object: string, write: (temp: string) => Promise<void>): Promise<bigint> => {
    const destination = pathOf(object);
    await mkdir(dirname(destination), { recursive: true });
    const temp = join(root, `.tunedrop-tmp-${randomBytes(6).toString('hex')}`);
    try {
      await write(temp);
      try {
        await link(temp, destination);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EEXIST')
          throw new ObjectExistsError(`${destination} exists already; tunedrop never overwrites an upload`);
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw error;
        if (await exists(destination))
          throw new ObjectExistsError(`${destination} exists already; tunedrop never overwrites an upload`);
        await rename(temp, destination);
      }
    } finally {
      await rm(temp, { force: true });
    }
    const info = await stat(destination, { bigint: true });
    return info.mtimeNs / 1000n;
  };

  return {
    bucket,
    describe: (object) => pathOf(object),
    exists: (object) => exists(pathOf(object)),
    async put(object, localPath, options) {
      if (options.metadata && Object.keys(options.metadata).length > 0) {
        // The local store reads custom metadata from a sidecar written before the object.
        const sidecar = JSON.stringify(options.metadata, null, 2);
        await place(sidecarNameFor(object), (temp) => writeFile(temp, sidecar));
      }
      const generation = await place(object, (temp) => copyFile(localPath, temp));
      return { generation: generation.toString() };
    },
    async readReport(object) {
      try {
        return await readFile(pathOf(reportNameFor(object)), 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** A Cloud Storage bucket: `ifGenerationMatch: 0` makes the upload fail if the object exists. */
export function createGcsTarget(storage: Storage, bucket: string): BucketTarget {
  return {
    bucket,
    describe: (object) => `gs://${bucket}/${object}`,
    async exists(object) {
      const [found] = await storage.bucket(bucket).file(object).exists();
      return found;
    },
    async put(object, localPath, options) {
      try {
        const [file] = await storage.bucket(bucket).upload(localPath, {
          destination: object,
          preconditionOpts: { ifGenerationMatch: 0 },
          metadata: {
            contentType: options.contentType,
            ...(options.metadata ? { metadata: options.metadata } : {}),
          },
        });
        const generation = file.metadata.generation;
        if (generation === undefined)
          throw new Error(`Cloud Storage returned no generation for gs://${bucket}/${object}`);
        return { generation: String(generation) };
      } catch (error) {
        if ((error as { code?: unknown }).code === 412) {
          throw new ObjectExistsError(
            `gs://${bucket}/${object} exists already; tunedrop never overwrites an upload`,
          );
        }
        throw error;
      }
    },
    async readReport(object) {
      try {
        const [contents] = await storage.bucket(bucket).file(reportNameFor(object)).download();
        return contents.toString('utf8');
      } catch (error) {
        if ((error as { code?: unknown }).code === 404) return undefined;
        throw error;
      }
    },
  };
}

/** `gs://BUCKET` (an optional trailing slash) to the bucket name; undefined for anything else. */
export function parseBucketUrl(url: string): string | undefined {
  return /^gs:\/\/([a-z0-9][a-z0-9._-]{1,220}[a-z0-9])\/?$/.exec(url)?.[1];
}
