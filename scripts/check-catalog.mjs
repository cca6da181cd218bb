/**
 * The build-time check of the built-in model catalog (shared/models/catalog.json): the CLI and
 * the functions hand it out without parsing it at run time (shared/models/builtin.ts), so each
 * build checks it against its zod schema first and refuses to build with a broken one.
 */

/**
 * What is wrong with catalog.json, or undefined when it is valid: checkBuiltinCatalog of
 * shared/models/catalog.ts, bundled in memory with zod and run here (~0.1 s).
 */
export async function builtinCatalogProblem(esbuild, root) {
  const result = await esbuild.build({
    stdin: {
      contents: "export { checkBuiltinCatalog } from './shared/models/catalog.ts';",
      resolveDir: root,
      sourcefile: 'check-catalog.ts',
      loader: 'ts',
    },
    bundle: true,
    format: 'esm',
    platform: 'node',
    write: false,
    logLevel: 'silent',
  });
  const code = Buffer.from(result.outputFiles[0].contents).toString('base64');
  const { checkBuiltinCatalog } = await import(`data:text/javascript;base64,${code}`);
  return checkBuiltinCatalog();
}
