/**
 * The catalog shipped with this release, without zod at run time: catalog.json is part of the
 * release like the code beside it, so it is schema-checked where it is made, not on every start.
 * Every build checks it (checkBuiltinCatalog in catalog.ts, run by scripts/build-cli.mjs and
 * scripts/build.mjs, which refuse to build with a broken catalog), and so does the unit suite.
 * That keeps zod (~60–80 ms to load, plus the parse) off the start of `tunedrop validate` and of
 * the validator's worker threads. An operator's override is still checked where it is loaded
 * (loadCatalog in catalog.ts).
 */
import builtinJson from './catalog.json' with { type: 'json' };
import type { Catalog } from './schema.ts';

/**
 * The catalog shipped with this release. The check guarantees the JSON is exactly what
 * CatalogSchema would return for it (the schema has no defaults or transforms), so this is the
 * parsed catalog without the parse.
 */
export function builtinCatalog(): Catalog {
  return builtinJson as Catalog;
}

/** catalog.json as read, for the check. */
export const builtinCatalogJson: unknown = builtinJson;
