/**
 * A local folder standing in for ONE bucket (the local stack and tests): every bucket name maps to
 * the root. An object's generation is its mtime in microseconds, as Cloud Storage generations are
 * microsecond timestamps (and as the local bucket watcher reports them). Custom metadata lives in
 * an optional `<name>.metadata.json` sidecar holding a flat JSON object of strings, e.g.
 * `{"base-model": "gemini-3.5-flash", "epoch-count": "2"}`; sidecars are not objects (list skips
 * them, ingest ignores them). Write the sidecar before the object it describes.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import {
  type FileHandle,
  link,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PermanentError } from '../errors/index.ts';
import { DestinationExistsError, fromFsError, mapStreamErrors, StaleGenerationError } from './errors.ts';
import {
  assertPinDestination,
  assertWritable,
  isLocalTempName,
  isMetadataSidecar,
  sidecarNameFor,
} from './paths.ts';
import type { BlobInfo, BlobStore, BlobVersion, CopyOptions, ReadOptions } from './types.ts';

export interface LocalBlobStoreOptions {
  root: string;
}

const contentTypes: Record<string, string> = {
  jsonl: 'application/jsonl',
  json: 'application/json',
};

const generationOf = (mtimeNs: bigint): string => (mtimeNs / 1000n).toString();

function contentTypeOf(name: string): string | undefined {
  return contentTypes[name.slice(name.lastIndexOf('.') + 1)];
}

export function createLocalBlobStore(options: LocalBlobStoreOptions): BlobStore {
  const root = resolve(options.root);

  // An object name must stay inside the root: `..` segments or absolute names could reach any file.
  const pathOf = (name: string): string => {
    const path = resolve(root, name);
    if (name === '' || name.startsWith('/') || !path.startsWith(`${root}${sep}`)) {
      throw new PermanentError(`invalid object name ${JSON.stringify(name)}`, 'invalid-object-name');
    }
    return path;
  };

  const readMetadata = async (name: string): Promise<Record<string, string>> => {
    let text: string;
    try {
      text = await readFile(pathOf(sidecarNameFor(name)), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new PermanentError(`${sidecarNameFor(name)} is not valid JSON`, 'invalid-metadata-sidecar');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new PermanentError(`${sidecarNameFor(name)} must hold a JSON object`, 'invalid-metadata-sidecar');
    }
    // Cloud Storage metadata values are strings; numbers written by hand become their text.
    return Object.fromEntries(Object.entries(parsed).map(([key, value]) => [key, String(value)]));
  };

  const statObject = async (bucket: string, name: string): Promise<BlobInfo | undefined> => {
    let info: Awaited<ReturnType<typeof stat>> & { mtimeNs: bigint };
    try {
      info = await stat(pathOf(name), { bigint: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    if (!info.isFile()) return undefined;
    return {
      bucket,
      name,
      size: Number(info.size),
      generation: generationOf(info.mtimeNs),
      contentType: contentTypeOf(name),
      metadata: await readMetadata(name),
      updateTime: new Date(Number(info.mtimeNs / 1_000_000n)).toISOString(),
    };
  };

  /**
   * Opens the file and checks the generation of what was opened (fstat of the handle, not a stat
   * of the path): writes replace files by rename, so the open handle keeps the bytes of the
   * generation checked even if a newer upload lands while they are read.
   */
  const openGeneration = async (bucket: string, name: string, generation: string): Promise<FileHandle> => {
    let handle: FileHandle;
    try {
      handle = await open(pathOf(name), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new StaleGenerationError(bucket, name, generation, undefined, { cause: error });
      }
      throw fromFsError(error, bucket, name);
    }
    try {
      const current = generationOf((await handle.stat({ bigint: true })).mtimeNs);
      if (current !== generation) throw new StaleGenerationError(bucket, name, generation, current);
      return handle;
    } catch (error) {
      await handle.close();
      throw error;
    }
  };

  return {
    read(bucket: string, name: string, read?: ReadOptions): Readable {
      const generation = read?.generation;
      if (generation === undefined) {
        return mapStreamErrors(createReadStream(pathOf(name)), (error) => fromFsError(error, bucket, name));
      }
      pathOf(name); // an invalid name throws now, as the unpinned read does
      const out = new PassThrough();
      openGeneration(bucket, name, generation).then(
        (handle) => {
          if (out.destroyed) {
            void handle.close();
            return;
          }
          const source = handle.createReadStream();
          source.on('error', (error) => out.destroy(fromFsError(error, bucket, name) as Error));
          out.on('close', () => source.destroy());
          source.pipe(out);
        },
        (error: unknown) => out.destroy(error as Error),
      );
      return out;
    },

    async readText(bucket: string, name: string, read?: ReadOptions): Promise<string> {
      if (read?.generation !== undefined) {
        const handle = await openGeneration(bucket, name, read.generation);
        try {
          return await handle.readFile('utf8');
        } catch (error) {
          throw fromFsError(error, bucket, name);
        } finally {
          await handle.close();
        }
      }
      try {
        return await readFile(pathOf(name), 'utf8');
      } catch (error) {
        throw fromFsError(error, bucket, name);
      }
    },

    stat: statObject,

    async write(_bucket: string, name: string, data: string | Buffer): Promise<void> {
      assertWritable(name);
      const path = pathOf(name);
      await mkdir(dirname(path), { recursive: true });
      // Temp file + rename: a reader or a folder watcher sees the old file or the whole new one.
      const temp = join(dirname(path), `.tunedrop-tmp-${randomBytes(6).toString('hex')}`);
      try {
        await writeFile(temp, data);
        await rename(temp, path);
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
    },

    /**
     * Cloud Storage's copy semantics on a folder: the source is opened and its generation checked
     * on the open handle (the bytes copied are that generation's even if a newer upload lands
     * meanwhile); the copy is written to a temporary file and hard-linked into place, and link
     * fails if the name exists: create-if-absent, like `ifGenerationMatch: 0`. The metadata
     * sidecar is put in place right after the link that won (a reader in between sees no
     * metadata; only the local stack has that window).
     */
    async copy(
      source: BlobVersion,
      destination: { bucket: string; name: string },
      copy?: CopyOptions,
    ): Promise<BlobInfo> {
      assertPinDestination(destination.name);
      const target = pathOf(destination.name);
      const handle = await openGeneration(source.bucket, source.name, source.generation);
      const dir = dirname(target);
      const temp = join(dir, `.tunedrop-tmp-${randomBytes(6).toString('hex')}`);
      const sidecarTemp = `${temp}.metadata.json`;
      try {
        await mkdir(dir, { recursive: true });
        try {
          await pipeline(
            handle.createReadStream({ autoClose: false }),
            createWriteStream(temp, { flags: 'wx' }),
          );
        } catch (error) {
          throw fromFsError(error, source.bucket, source.name);
        }
        if (copy?.metadata) await writeFile(sidecarTemp, JSON.stringify(copy.metadata));
        try {
          await link(temp, target);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
            throw new DestinationExistsError(destination.bucket, destination.name, { cause: error });
          }
          throw error;
        }
        if (copy?.metadata) await rename(sidecarTemp, pathOf(sidecarNameFor(destination.name)));
      } finally {
        await handle.close();
        await rm(temp, { force: true });
        await rm(sidecarTemp, { force: true });
      }
      const info = await statObject(destination.bucket, destination.name);
      if (!info) throw new Error(`${destination.name} vanished right after it was copied`);
      return info;
    },

    async createIfAbsent(bucket: string, name: string, data: string | Buffer): Promise<BlobInfo | undefined> {
      const path = pathOf(name);
      await mkdir(dirname(path), { recursive: true });
      // Temp file, then a hard link into place: atomic for the folder watcher, and it fails
      // (EEXIST) instead of replacing an object that is already there.
      const temp = join(root, `.tunedrop-tmp-${randomBytes(6).toString('hex')}`);
      try {
        await writeFile(temp, data);
        await link(temp, path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
        throw error;
      } finally {
        await rm(temp, { force: true });
      }
      return statObject(bucket, name);
    },

    async list(bucket: string, prefix: string): Promise<BlobInfo[]> {
      let entries: string[];
      try {
        entries = await readdir(root, { recursive: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
      const names = entries
        .map((entry) => entry.split(sep).join('/'))
        .filter((name) => name.startsWith(prefix) && !isMetadataSidecar(name) && !isLocalTempName(name))
        .sort();
      const infos = await Promise.all(names.map((name) => statObject(bucket, name)));
      return infos.filter((info): info is BlobInfo => info !== undefined);
    },
  };
}
