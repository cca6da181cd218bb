/**
 * The CLI's model catalog: the built-in one merged with the operator's TUNEDROP_MODEL_CATALOG (a
 * file path, or a gs:// object read with Cloud Storage, loaded only then), as the functions load it.
 */
import { type Catalog, catalogTextReader, loadCatalog } from '../../shared/models/index.ts';
import type { BlobStore } from '../../shared/storage/index.ts';

export async function loadCliCatalog(env: Record<string, string | undefined>): Promise<Catalog> {
  const overrideSource = env.TUNEDROP_MODEL_CATALOG?.trim() || undefined;
  const gcs: Pick<BlobStore, 'readText'> = {
    async readText(bucket, name) {
      const [{ Storage }, { createGcsBlobStore }] = await Promise.all([
        import('@google-cloud/storage'),
        import('../../shared/storage/index.ts'),
      ]);
      return createGcsBlobStore({ storage: new Storage() }).readText(bucket, name);
    },
  };
  return loadCatalog({ overrideSource, readText: catalogTextReader(gcs) });
}
