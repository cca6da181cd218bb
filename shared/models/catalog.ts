/**
 * Loads the model catalog: the built-in catalog.json, optionally merged with an operator's
 * override (TUNEDROP_MODEL_CATALOG), both schema-checked. A model's knowledge (limits, dates,
 * prices) is data here so that the next retirement is a data change, not a release.
 */
import { isDeepStrictEqual } from 'node:util';
import { PermanentError } from '../errors/index.ts';
import { builtinCatalog, builtinCatalogJson } from './builtin.ts';
import { type Catalog, type CatalogModel, CatalogOverrideSchema, CatalogSchema } from './schema.ts';

export { builtinCatalog } from './builtin.ts';

export class CatalogError extends PermanentError {
  constructor(message: string, details?: unknown) {
    super(message, 'invalid_model_catalog', details);
  }
}

/**
 * What is wrong with the built-in catalog.json, or undefined when it passes CatalogSchema and is
 * exactly what the schema returns for it (so builtin.ts may hand it out unparsed). Run by every
 * build and by the unit suite, not at run time. `json` is for tests.
 */
export function checkBuiltinCatalog(json: unknown = builtinCatalogJson): string | undefined {
  const parsed = CatalogSchema.safeParse(json);
  if (!parsed.success) return `the built-in model catalog is invalid: ${describeIssues(parsed.error.issues)}`;
  if (!isDeepStrictEqual(parsed.data, json)) {
    return 'the built-in model catalog differs from its parsed form (a default or transform in the schema?): builtin.ts would hand out unparsed data';
  }
  return undefined;
}

export function parseCatalog(value: unknown, what: string): Catalog {
  const parsed = CatalogSchema.safeParse(value);
  if (!parsed.success) throw new CatalogError(`${what} is invalid: ${describeIssues(parsed.error.issues)}`);
  return parsed.data;
}

/**
 * The catalog with an override merged over it: an entry whose id (or alias) names a known model
 * changes only the fields it gives (limits and price merged field by field); any other entry must be
 * a whole model. The result is checked as a whole, so a broken override never half-applies.
 */
export function mergeCatalog(base: Catalog, override: unknown, what: string): Catalog {
  const parsedOverride = CatalogOverrideSchema.safeParse(override);
  if (!parsedOverride.success) {
    throw new CatalogError(`${what} is invalid: ${describeIssues(parsedOverride.error.issues)}`);
  }
  const models: unknown[] = [...base.models];
  for (const entry of parsedOverride.data.models) {
    const index = base.models.findIndex((model) => model.id === entry.id || model.aliases.includes(entry.id));
    if (index === -1) {
      models.push(entry);
      continue;
    }
    const current = base.models[index] as CatalogModel;
    const change = entry as Partial<CatalogModel> & { id: string };
    models[index] = {
      ...current,
      ...change,
      id: current.id,
      limits: { ...current.limits, ...(change.limits ?? {}) },
      price: { ...current.price, ...(change.price ?? {}) },
    };
  }
  return parseCatalog(
    { ...base, factsAsOf: parsedOverride.data.factsAsOf ?? base.factsAsOf, models },
    `the model catalog with ${what} merged`,
  );
}

/** Reads an override's text (a file path, or a gs:// object in the cloud) with the caller's reader. */
export async function loadCatalog(options: {
  /** TUNEDROP_MODEL_CATALOG: where the override is, or undefined for the built-in catalog alone. */
  overrideSource?: string | undefined;
  readText?: (source: string) => Promise<string>;
}): Promise<Catalog> {
  const source = options.overrideSource?.trim();
  if (!source) return builtinCatalog();
  if (!options.readText) throw new CatalogError(`cannot read the model catalog override ${source} here`);
  const text = await options.readText(source);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CatalogError(`the model catalog override ${source} is not JSON: ${(error as Error).message}`);
  }
  return mergeCatalog(builtinCatalog(), json, `the override ${source}`);
}

function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.map(String).join('.') : '(top)'}: ${issue.message}`)
    .join('; ');
}
