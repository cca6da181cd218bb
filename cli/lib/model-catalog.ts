/**
 * The CLI's model catalog: the built-in one merged with the operator's TUNEDROP_MODEL_CATALOG (a
 * file path, or a gs:// object read with Cloud Storage, loaded only then), as the functions load it.
 */
import { builtinCatalog, type Catalog } from '../../shared/models/runtime.ts';
import type { BlobStore } from '../../shared/storage/index.ts';

export async function loadCliCatalog(env: Record<string, string | undefined>): Promise<Catalog> {
  const overrideSource = env.TUNEDROP_MODEL_CATALOG?.trim() || undefined;
  // The built-in catalog is checked when built: without an override there is nothing to parse,
  // and `tunedrop validate` starts without loading zod. An override is schema-checked here.
  if (!overrideSource) return builtinCatalog();
  const { catalogTextReader, loadCatalog } = await import('../../shared/models/index.ts');
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
