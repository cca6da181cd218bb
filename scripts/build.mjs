#!/usr/bin/env node
/**
 * `npm run build`: bundles the four Cloud Run functions (functions/index.ts registers them with the
 * Functions Framework) into dist/functions, the folder Terraform zips and uploads.
 *
 * Our own TypeScript is bundled into one ESM file; npm packages stay external, because the Google
 * client libraries load proto files from their package folders at run time and do not survive
 * bundling. Cloud Build installs them from the package.json written beside the bundle, which lists
 * only the runtime dependencies the bundle really imports, pinned to package-lock.json's versions.
 *
 * Options (for tests and experiments): --entry FILE (default functions/index.ts), --outdir DIR
 * (default dist/functions).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { builtinCatalogProblem } from './check-catalog.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The Functions Framework is the start command of every function: always a dependency. */
const frameworkPackage = '@google-cloud/functions-framework';

class BuildError extends Error {}

/** `@scope/name/sub/path` → `@scope/name`; `name/sub` → `name`. */
function packageNameOf(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

function isBuiltin(specifier) {
  return specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0] ?? '');
}

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** Package names the bundle imports from node_modules (statically or with a literal dynamic import). */
function importedPackages(metafile) {
  const names = new Set();
  for (const output of Object.values(metafile.outputs)) {
    for (const entry of output.imports) {
      if (entry.external && !isBuiltin(entry.path)) names.add(packageNameOf(entry.path));
    }
  }
  return names;
}

/**
 * Packages the code reads by path (`require.resolve('pkg/file.json')`, like the Gemma 3 tokenizer's
 * vocabulary in shared/dataset/tokens.ts) rather than imports: the bundler does not see them, so
 * they are found in the bundle's text (where esbuild may have renamed `require` to `require2`).
 */
function resolvedByPath(bundleText) {
  const names = new Set();
  for (const match of bundleText.matchAll(/\brequire\w*\.resolve\(\s*["'`]((?:@[^/"'`]+\/)?[^/"'`]+)/g)) {
    if (!isBuiltin(match[1])) names.add(match[1]);
  }
  return names;
}

/** The dependencies of the deployed package: imported ∩ runtime dependencies, at the locked versions. */
function pinnedDependencies(imported, rootPackage, lock) {
  const runtime = rootPackage.dependencies ?? {};
  const wanted = new Set([...imported, frameworkPackage]);
  const notRuntime = [...wanted].filter((name) => !(name in runtime)).sort();
  if (notRuntime.length > 0) {
    throw new BuildError(
      `the functions import ${notRuntime.join(', ')}, which ${notRuntime.length === 1 ? 'is' : 'are'} not in ` +
        'package.json "dependencies" (devDependencies are not installed in the cloud)',
    );
  }
  const pinned = {};
  for (const name of [...wanted].sort()) {
    const version = lock.packages?.[`node_modules/${name}`]?.version;
    if (!version) throw new BuildError(`${name} is missing from package-lock.json: run npm install`);
    pinned[name] = version;
  }
  return pinned;
}

/** A hash of every file in the folder (names and contents), stable across runs. */
function contentHash(dir) {
  const hash = createHash('sha256');
  const walk = (folder) => {
    for (const name of readdirSync(folder).sort()) {
      const path = join(folder, name);
      if (statSync(path).isDirectory()) walk(path);
      else hash.update(relative(dir, path)).update('\0').update(readFileSync(path)).update('\0');
    }
  };
  walk(dir);
  return hash.digest('hex');
}

function formatSize(bytes) {
  return bytes >= 1024 * 1024
    ? `${(bytes / 1024 / 1024).toFixed(2)} MiB`
    : `${(bytes / 1024).toFixed(1)} KiB`;
}

async function main() {
  const { values } = parseArgs({
    options: { entry: { type: 'string' }, outdir: { type: 'string' } },
    allowPositionals: false,
  });
  const entry = resolve(values.entry ?? join(root, 'functions', 'index.ts'));
  const outdir = resolve(values.outdir ?? join(root, 'dist', 'functions'));

  if (!existsSync(entry)) {
    throw new BuildError(
      `${relative(process.cwd(), entry) || entry} does not exist: it must register ingestDataset, pollJobs, ` +
        'deliverWebhooks and api with the Functions Framework',
    );
  }

  // The functions hand the built-in catalog out unparsed at run time (shared/models/builtin.ts).
  const catalogProblem = await builtinCatalogProblem({ build }, root);
  if (catalogProblem) throw new BuildError(`${catalogProblem} (shared/models/catalog.json)`);

  // A stale file from an earlier build would end up in the uploaded bundle and change its hash.
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });

  const result = await build({
    // The validator's worker threads are entries of their own: shared/dataset/worker-pool.ts starts
    // them from beside index.js (and validates and counts on one thread if they are missing).
    entryPoints: {
      index: entry,
      'dataset-worker': join(root, 'shared', 'dataset', 'dataset-worker.ts'),
      'tokenizer-worker': join(root, 'shared', 'dataset', 'tokenizer-worker.ts'),
    },
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    sourcemap: true,
    packages: 'external',
    metafile: true,
    logLevel: 'warning',
    legalComments: 'none',
  });

  const rootPackage = readJson(join(root, 'package.json'));
  const lock = readJson(join(root, 'package-lock.json'));
  const bundleText = readFileSync(join(outdir, 'index.js'), 'utf8');
  const used = new Set([...importedPackages(result.metafile), ...resolvedByPath(bundleText)]);
  const dependencies = pinnedDependencies(used, rootPackage, lock);
  const manifest = {
    name: `${rootPackage.name}-functions`,
    version: rootPackage.version,
    private: true,
    description: 'tunedrop Cloud Run functions: ingestDataset, pollJobs, deliverWebhooks, api',
    type: 'module',
    main: 'index.js',
    engines: { node: '>=22' },
    dependencies,
  };
  writeFileSync(join(outdir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  const size = statSync(join(outdir, 'index.js')).size;
  const where = relative(process.cwd(), outdir) || '.';
  console.log(
    `built ${where}/index.js (${formatSize(size)}) with ${Object.keys(dependencies).length} dependencies`,
  );
  console.log(`content sha256 ${contentHash(outdir)}`);
}

main().catch((error) => {
  // esbuild has already printed its own diagnostics for a failed bundle.
  console.error(`build failed: ${error instanceof BuildError ? error.message : (error?.message ?? error)}`);
  process.exitCode = 1;
});
