export { CatalogError, checkBuiltinCatalog, loadCatalog, mergeCatalog, parseCatalog } from './catalog.ts';
export { adapterSizeIssue, cmekIssue, regionIssue } from './checks.ts';
export * from './runtime.ts';
export { CatalogModelSchema, CatalogSchema } from './schema.ts';
export { catalogLoader, catalogTextReader } from './source.ts';
