/**
 * The validator's view of the model catalog (shared/models): a model spec is a catalog entry.
 * resolveDatasetModel turns a model id into the spec to check with and the report's model issues
 * (retired: an error; unknown, retiring or preview: a warning). findModel/requireModel look ids up
 * in the built-in catalog for callers with no catalog of their own (tests, benchmarks).
 */
// runtime.ts, not the models index: this is on the validator's hot path and in its worker
// threads, which should not load zod (see shared/models/runtime.ts).
import {
  builtinCatalog,
  type Catalog,
  type CatalogModel,
  findCatalogModel,
  resolveModel,
} from '../models/runtime.ts';
import type { ValidationIssue } from './report.ts';

export { PART_KINDS, type PartKind } from '../models/runtime.ts';

export type ModelSpec = CatalogModel;

/** The built-in catalog's models. */
export const MODELS: readonly ModelSpec[] = builtinCatalog().models;

/** The spec of a model id, alias or `publishers/google/models/<id>` name, or undefined. */
export function findModel(id: string): ModelSpec | undefined {
  return findCatalogModel(builtinCatalog(), id);
}

/** Like findModel, for a model the caller knows is in the built-in catalog. */
export function requireModel(id: string): ModelSpec {
  const model = findModel(id);
  if (!model) throw new Error(`"${id}" is not in the built-in model catalog`);
  return model;
}

export interface DatasetModel {
  /** What the data is checked against: the catalog entry, or conservative limits when unknown. */
  model: ModelSpec;
  /** File-level (line 0) issues about the model itself. */
  errors: ValidationIssue[];
  warnings: ValidationIssue[];
  /** Not in the catalog: `model` holds conservative limits, which only warn. */
  unknown: boolean;
}

/**
 * The model a dataset is validated for, on `today` (YYYY-MM-DD, UTC). A retired model is an
 * error (`retired_model`) whose message names the date and the replacements; an unknown one is a
 * warning (`unknown_model`) and is checked with the catalog's conservative limits, so the provider's
 * own answer stands; a model near (or, unconfirmed, past) its retirement or in Preview warns
 * (`model_lifecycle`).
 */
export function resolveDatasetModel(id: string, catalog: Catalog, today: string): DatasetModel {
  const resolution = resolveModel(catalog, id, { today });
  const issue = (code: string, message: string): ValidationIssue => ({ line: 0, code, path: '', message });
  const warnings = resolution.warnings.map((message) =>
    issue(resolution.kind === 'unknown' ? 'unknown_model' : 'model_lifecycle', message),
  );
  const errors = resolution.kind === 'retired' ? [issue('retired_model', resolution.message)] : [];
  return { model: resolution.model, errors, warnings, unknown: resolution.kind === 'unknown' };
}
