import { describe, expect, it } from 'vitest';
import {
  adapterSizeIssue,
  builtinCatalog,
  CatalogError,
  checkBuiltinCatalog,
  cmekIssue,
  findCatalogModel,
  mergeCatalog,
  regionIssue,
  resolveModel,
} from '../../../shared/models/index.ts';

const catalog = builtinCatalog();
const entry = (id: string) => findCatalogModel(catalog, id)!;

describe('the built-in model catalog', () => {
  it('is schema-checked data with its own facts date and both providers', () => {
    expect(catalog.factsAsOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(new Set(catalog.models.map((model) => model.provider))).toEqual(new Set(['vertex', 'yandex']));
  });

  it('passes its schema exactly as shipped, so it is handed out without a parse at run time', () => {
    // The builds run the same check (scripts/check-catalog.mjs) and refuse a broken catalog.
    expect(checkBuiltinCatalog()).toBeUndefined();
  });

  it('fails the check with the path of what is wrong, or of a field the schema does not know', () => {
    const copy = structuredClone(catalog);
    (copy.models[0]!.limits as { maxTokensPerExample: number }).maxTokensPerExample = -1;
    expect(checkBuiltinCatalog(copy)).toMatch(
      /^the built-in model catalog is invalid: models\.0\.limits\.maxTokensPerExample: /,
    );
    const extra = structuredClone(catalog) as Record<string, unknown>;
    extra.colour = 'blue';
    expect(checkBuiltinCatalog(extra)).toMatch(/^the built-in model catalog is invalid: .*colour/);
  });

  it('records a price only with its source and date, and no price it could not source', () => {
    for (const model of catalog.models) {
      if (model.price.usdPerMillionTrainingTokens !== null) {
        expect(model.price.source).toBeTruthy();
        expect(model.price.asOf).toBeTruthy();
      }
    }
  });

  it('names replacements that are themselves in the catalog', () => {
    for (const model of catalog.models) {
      for (const id of model.replacements)
        expect(findCatalogModel(catalog, id), `${model.id} → ${id}`).toBeDefined();
    }
  });

  it('finds models by id, alias and resource name', () => {
    expect(findCatalogModel(catalog, 'gemini-2.0-flash')?.id).toBe('gemini-2.0-flash-001');
    expect(findCatalogModel(catalog, 'publishers/google/models/gemini-3.5-flash')?.id).toBe(
      'gemini-3.5-flash',
    );
    expect(findCatalogModel(catalog, 'google/gemini-3.5-flash@default')?.id).toBe('gemini-3.5-flash');
    expect(findCatalogModel(catalog, 'yandexgpt-lite', 'vertex')).toBeUndefined();
  });
});

describe('resolving a model on a given day', () => {
  it('refuses a model whose confirmed retirement date has passed, naming the date and the replacements', () => {
    const resolution = resolveModel(catalog, 'gemini-2.0-flash-001', { today: '2026-12-03' });
    expect(resolution).toMatchObject({
      kind: 'retired',
      message:
        'gemini-2.0-flash-001 was retired on 2026-06-01; use gemini-3.5-flash-lite or gemini-3.5-flash',
    });
  });

  it('warns, without refusing, where a listed retirement date is not confirmed', () => {
    const resolution = resolveModel(catalog, 'gemini-2.5-flash', { today: '2026-12-03' });
    expect(resolution.kind).toBe('known');
    expect(resolution.warnings.join('\n')).toMatch(
      /listed for retirement on 2026-10-20.*use gemini-3\.5-flash/,
    );
  });

  it('warns within 30 days of a retirement date and not before', () => {
    const soon = resolveModel(catalog, 'gemini-3.5-flash', { today: '2027-04-25' });
    expect(soon.warnings.join('\n')).toMatch(/retires on or after 2027-05-19 \(in 24 days\)/);
    expect(resolveModel(catalog, 'gemini-3.5-flash', { today: '2027-04-18' }).warnings).toEqual([]);
  });

  it('lets an unknown model through with a warning and conservative limits from the data', () => {
    const resolution = resolveModel(catalog, 'gemini-9-flash', { today: '2026-12-03' });
    expect(resolution.kind).toBe('unknown');
    expect(resolution.model.limits).toEqual(catalog.unknownModelDefaults.vertex.limits);
    expect(resolution.warnings[0]).toContain(`catalog's facts are as of ${catalog.factsAsOf}`);
  });
});

describe('job settings checked from the catalog', () => {
  it('allows the adapter sizes each model lists, naming them when one is not', () => {
    expect(adapterSizeIssue(entry('gemini-2.5-pro'), 8)).toBeUndefined();
    expect(adapterSizeIssue(entry('gemini-2.5-pro'), 16)).toBe(
      'adapter size 16 is not available for gemini-2.5-pro; allowed: 1, 2, 4, 8',
    );
    expect(adapterSizeIssue(entry('gemini-3.5-flash'), 32)).toMatch(/allowed: 1, 2, 4, 8, 16$/);
  });

  it('refuses regions and CMEK only where the catalog says so', () => {
    expect(regionIssue(entry('gemini-3.5-flash'), 'asia-northeast1')).toMatch(/us-central1, europe-west4/);
    expect(regionIssue(entry('gemini-3.5-flash'), 'europe-west4')).toBeUndefined();
    expect(regionIssue(entry('gemini-2.5-pro'), 'asia-northeast1')).toBeUndefined();
    expect(
      cmekIssue(entry('gemini-3.5-flash'), 'projects/p/locations/l/keyRings/r/cryptoKeys/k'),
    ).toBeDefined();
    expect(
      cmekIssue(entry('gemini-2.5-pro'), 'projects/p/locations/l/keyRings/r/cryptoKeys/k'),
    ).toBeUndefined();
  });
});

describe("an operator's override", () => {
  it('changes only the fields it gives, adds whole models, and moves the facts date', () => {
    const merged = mergeCatalog(
      catalog,
      {
        factsAsOf: '2027-01-10',
        models: [
          {
            id: 'gemini-3.5-flash',
            limits: { maxTokensPerExample: 262144 },
            price: { usdPerMillionTrainingTokens: 4, source: 'our contract', asOf: '2027-01-01' },
          },
          { ...entry('gemini-3.5-flash'), id: 'gemini-4-flash', displayName: 'Gemini 4 Flash' },
        ],
      },
      'test override',
    );
    expect(merged.factsAsOf).toBe('2027-01-10');
    const flash = findCatalogModel(merged, 'gemini-3.5-flash')!;
    expect(flash.limits.maxTokensPerExample).toBe(262144);
    expect(flash.limits.maxValidationExamples).toBe(5000);
    expect(flash.price.usdPerMillionTrainingTokens).toBe(4);
    expect(findCatalogModel(merged, 'gemini-4-flash')?.displayName).toBe('Gemini 4 Flash');
  });

  it('is refused whole, with the path of what is wrong', () => {
    expect(() =>
      mergeCatalog(catalog, { models: [{ id: 'gemini-3.5-flash', retirement: { date: 'soon' } }] }, 'x'),
    ).toThrow(CatalogError);
    expect(() => mergeCatalog(catalog, { models: [{ id: 'brand-new' }] }, 'x')).toThrow(
      /models\.\d+\.provider/,
    );
    expect(() =>
      mergeCatalog(
        catalog,
        {
          models: [
            { id: 'gemini-3.5-flash', price: { usdPerMillionTrainingTokens: 3, source: null, asOf: null } },
          ],
        },
        'x',
      ),
    ).toThrow(/a price needs its source and its date/);
  });
});
