/**
 * Where an operator's catalog override comes from (TUNEDROP_MODEL_CATALOG): a file path, or a
 * gs:// object read with the deployment's blob store, and a loader that reads it once per
 * process (a function instance, a CLI run) and reuses the merged catalog afterwards.
 */
import { readFile } from 'node:fs/promises';
import { BlobAccessError, type BlobStore } from '../storage/index.ts';
import { CatalogError, loadCatalog } from './catalog.ts';
import type { Catalog } from './schema.ts';

const gsPattern = /^gs:\/\/([^/]+)\/(.+)$/;

/**
 * A reader for loadCatalog: gs:// objects through `blobs` (Cloud Storage deployed, the bucket
 * folder in the local stack), anything else as a local file. A missing or forbidden object or
 * file is a CatalogError (the operator must fix it); a transient storage failure is rethrown.
 */
export function catalogTextReader(blobs?: Pick<BlobStore, 'readText'>): (source: string) => Promise<string> {
  return async (source) => {
    const gs = gsPattern.exec(source);
    if (gs) {
      if (!blobs)
        throw new CatalogError(`cannot read the model catalog override ${source}: no Cloud Storage here`);
      try {
        return await blobs.readText(gs[1]!, gs[2]!);
      } catch (error) {
        if (error instanceof BlobAccessError && error.permanent) {
          throw new CatalogError(`cannot read the model catalog override ${source}: ${error.message}`);
        }
        throw error;
      }
    }
    try {
      return await readFile(source, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new CatalogError(`cannot read the model catalog override ${source}: ${code}`);
    }
  };
}

/**
 * The effective catalog, loaded on first use and kept: one read of the override per process.
 * A failed load is not kept, so a transient storage error is retried by the next caller.
 */
export function catalogLoader(options: {
  overrideSource?: string | undefined;
  blobs?: Pick<BlobStore, 'readText'>;
}): () => Promise<Catalog> {
  let loading: Promise<Catalog> | undefined;
  return () => {
    loading ??= loadCatalog({
      overrideSource: options.overrideSource,
      readText: catalogTextReader(options.blobs),
    }).catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
}
