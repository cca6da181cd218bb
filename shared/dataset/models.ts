/**
 * The validator's view of the model catalog (shared/models): a model spec is a catalog entry.
 * These helpers look ids up in the built-in catalog for callers that have no catalog of their own.
 */
import { PermanentError } from '../errors/index.ts';
import { builtinCatalog, type CatalogModel, findCatalogModel } from '../models/index.ts';

export { PART_KINDS, type PartKind } from '../models/index.ts';

export type ModelSpec = CatalogModel;

/** The built-in catalog's models. */
export const MODELS: readonly ModelSpec[] = builtinCatalog().models;

export class UnknownModelError extends PermanentError {
  constructor(id: string) {
    super(
      `Unknown model "${id}". Known models: ${MODELS.map((model) => model.id).join(', ')}`,
      'unknown_model',
      { id, known: MODELS.map((model) => model.id) },
    );
  }
}

/** The spec of a model id, alias or `publishers/google/models/<id>` name, or undefined. */
export function findModel(id: string): ModelSpec | undefined {
  return findCatalogModel(builtinCatalog(), id);
}

/** Like findModel, but throws UnknownModelError (a PermanentError) listing the known models. */
export function requireModel(id: string): ModelSpec {
  const model = findModel(id);
  if (!model) throw new UnknownModelError(id);
  return model;
}
