import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  builtinCatalog,
  CatalogError,
  catalogLoader,
  findCatalogModel,
} from '../../../shared/models/index.ts';
import { BlobAccessError } from '../../../shared/storage/index.ts';

const scratch = mkdtempSync(join(tmpdir(), 'tunedrop-catalog-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const override = JSON.stringify({
  factsAsOf: '2027-02-01',
  models: [{ id: 'gemini-3.5-flash', adapterSizes: [1, 2] }],
});

describe('loading the operator override (TUNEDROP_MODEL_CATALOG)', () => {
  it('is the built-in catalog when unset', async () => {
    expect(await catalogLoader({})()).toBe(builtinCatalog());
  });

  it('merges a local file over the built-in catalog', async () => {
    const path = join(scratch, 'override.json');
    writeFileSync(path, override);
    const catalog = await catalogLoader({ overrideSource: path })();
    expect(catalog.factsAsOf).toBe('2027-02-01');
    expect(findCatalogModel(catalog, 'gemini-3.5-flash')?.adapterSizes).toEqual([1, 2]);
  });

  it('reads a gs:// object once per process through the blob store, retrying only after a failure', async () => {
    const reads: string[] = [];
    let fail = true;
    const blobs = {
      async readText(bucket: string, name: string) {
        reads.push(`${bucket}/${name}`);
        if (fail) {
          fail = false;
          throw new BlobAccessError('unavailable', 503, bucket, name);
        }
        return override;
      },
    };
    const load = catalogLoader({ overrideSource: 'gs://ops-bucket/catalog/override.json', blobs });
    await expect(load()).rejects.toThrow('unavailable');
    const [first, second] = await Promise.all([load(), load()]);
    expect(first).toBe(second);
    expect(first.factsAsOf).toBe('2027-02-01');
    await load();
    expect(reads).toEqual(['ops-bucket/catalog/override.json', 'ops-bucket/catalog/override.json']);
  });

  it('says what is wrong with a missing, forbidden or invalid override', async () => {
    await expect(catalogLoader({ overrideSource: join(scratch, 'nope.json') })()).rejects.toThrow(
      CatalogError,
    );
    const forbidden = {
      readText: async (bucket: string, name: string): Promise<string> => {
        throw new BlobAccessError('forbidden', 403, bucket, name);
      },
    };
    await expect(catalogLoader({ overrideSource: 'gs://b/o.json', blobs: forbidden })()).rejects.toThrow(
      /cannot read the model catalog override gs:\/\/b\/o\.json/,
    );
    const bad = join(scratch, 'bad.json');
    writeFileSync(bad, JSON.stringify({ models: [{ id: 'gemini-3.5-flash', cmek: 'maybe' }] }));
    await expect(catalogLoader({ overrideSource: bad })()).rejects.toThrow(/models\.0\.cmek/);
  });
});
