export { builtinCatalog, CatalogError, loadCatalog, mergeCatalog, parseCatalog } from './catalog.ts';
export { adapterSizeIssue, cmekIssue, regionIssue } from './checks.ts';
export {
  bareModelId,
  findCatalogModel,
  type ModelResolution,
  RETIREMENT_WARNING_DAYS,
  resolveModel,
  todayUtc,
} from './lookup.ts';
export {
  type Catalog,
  type CatalogModel,
  CatalogModelSchema,
  CatalogSchema,
  type ModelLimits,
  type ModelPrice,
  PART_KINDS,
  type PartKind,
  PROVIDERS,
  type Provider,
} from './schema.ts';
export { catalogLoader, catalogTextReader } from './source.ts';
