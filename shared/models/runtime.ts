/**
 * The part of the models module that loads no zod: the built-in catalog, lookups and the
 * catalog's enumerations. The validator (shared/dataset), its worker threads and `tunedrop
 * validate` import this instead of index.ts, whose schemas would load zod (~60–80 ms) at the start
 * of every run and every worker. index.ts re-exports all of it.
 */
export { builtinCatalog } from './builtin.ts';
export { PART_KINDS, type PartKind, PROVIDERS, type Provider } from './kinds.ts';
export {
  bareModelId,
  findCatalogModel,
  type ModelResolution,
  RETIREMENT_WARNING_DAYS,
  resolveModel,
  todayUtc,
} from './lookup.ts';
export type { Catalog, CatalogModel, ModelLimits, ModelPrice } from './schema.ts';
