#!/usr/bin/env node
/**
 * Compiles the tunedrop CLI, and the local-stack code it runs in other processes and threads, into
 * dist/cli, so `tunedrop` starts as plain JavaScript (no TypeScript loader on any path a user
 * takes). Run by `npm install`/`npm ci` (the `prepare` script), `npm run build`, before `npm start`
 * and `npm run demo`, and by the test setup (test/support/build-cli.ts).
 *
 * Entries, all in one folder so relative lookups work from any chunk:
 * - tunedrop.js: cli/main.ts; each command is its own chunk, loaded on demand, so `--help` and
 *   `validate` never load the Google Cloud clients `dev` and `jobs` need.
 * - functions.js: functions/index.ts, which the local stack hands to the Functions Framework
 *   (local/function-processes.ts picks it when it runs compiled).
 * - dataset-worker.js and tokenizer-worker.js: the validator's worker threads
 *   (shared/dataset/worker-pool.ts looks for them beside the chunk that starts them).
 * npm packages stay external: they resolve from the repository's node_modules, and the Google
 * clients read proto files from their package folders.
 * The built-in model catalog is checked against its schema first (scripts/check-catalog.mjs): the
 * CLI reads it without zod at run time, so a broken catalog.json fails the build instead.
 *
 * `--if-stale` rebuilds only when an input's content changed since the last build (build-info.json
 * records a hash per input), or an output is missing. Files are written only when their content
 * changes, each through a rename, so a CLI already running is never handed a half-written file.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { builtinCatalogProblem } from './check-catalog.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const thisScript = fileURLToPath(import.meta.url);
const infoName = 'build-info.json';

const entryPoints = {
  tunedrop: join(root, 'cli', 'main.ts'),
  functions: join(root, 'functions', 'index.ts'),
  'dataset-worker': join(root, 'shared', 'dataset', 'dataset-worker.ts'),
  'tokenizer-worker': join(root, 'shared', 'dataset', 'tokenizer-worker.ts'),
};

const sha256 = (data) => createHash('sha256').update(data).digest('hex');

function readInfo(outdir) {
  try {
    return JSON.parse(readFileSync(join(outdir, infoName), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Why the build in outdir no longer matches the sources, or undefined when it does. */
export function staleReason(outdir) {
  const info = readInfo(outdir);
  if (!info || typeof info.inputs !== 'object' || !Array.isArray(info.outputs)) return 'no previous build';
  for (const output of info.outputs) {
    if (!existsSync(join(outdir, output))) return `${output} is missing`;
  }
  for (const [input, hash] of Object.entries(info.inputs)) {
    let content;
    try {
      content = readFileSync(join(root, input));
    } catch {
      return `${input} is gone`;
    }
    if (sha256(content) !== hash) return `${input} changed`;
  }
  return undefined;
}

/** Writes through a temporary file and a rename, and only when the content differs. */
function writeIfChanged(path, contents) {
  try {
    if (readFileSync(path).equals(Buffer.from(contents))) return false;
  } catch {}
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, path);
  return true;
}

export async function buildCli({ outdir = join(root, 'dist', 'cli'), ifStale = false } = {}) {
  const reason = ifStale ? staleReason(outdir) : 'requested';
  if (!reason) return { built: false };
  let esbuild;
  try {
    // esbuild is a devDependency: an install without them keeps the build it has.
    esbuild = createRequire(import.meta.url)('esbuild');
  } catch {
    if (existsSync(join(outdir, 'tunedrop.js'))) return { built: false, note: 'esbuild is not installed' };
    throw new Error('esbuild is not installed: run `npm install` (with dev dependencies) to build the CLI');
  }
  const [result, catalogProblem] = await Promise.all([
    esbuild.build({
      entryPoints,
      outdir,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      metafile: true,
      write: false,
      logLevel: 'warning',
      legalComments: 'none',
      // Chunks sit beside the entries: code in any of them finds the workers' files as `./`.
      chunkNames: '[name]-[hash]',
    }),
    // The built-in catalog is handed out unparsed at run time (shared/models/builtin.ts).
    builtinCatalogProblem(esbuild, root),
  ]);
  if (catalogProblem) throw new Error(`${catalogProblem} (shared/models/catalog.json)`);

  mkdirSync(outdir, { recursive: true });
  const written = [];
  const outputs = [];
  for (const file of result.outputFiles) {
    const name = relative(outdir, file.path);
    outputs.push(name);
    if (writeIfChanged(file.path, file.contents)) written.push(name);
  }
  // Chunks of earlier builds: their names carry a content hash, so they are simply no longer used.
  for (const name of readdirSync(outdir)) {
    if (name.endsWith('.js') && !outputs.includes(name)) rmSync(join(outdir, name), { force: true });
  }

  const inputs = {};
  const scripts = [thisScript, fileURLToPath(new URL('./check-catalog.mjs', import.meta.url))];
  for (const input of [
    ...Object.keys(result.metafile.inputs),
    ...scripts.map((path) => relative(root, path)),
  ].sort()) {
    const path = resolve(root, input);
    inputs[relative(root, path)] = sha256(readFileSync(path));
  }
  writeIfChanged(join(outdir, infoName), `${JSON.stringify({ inputs, outputs: outputs.sort() }, null, 2)}\n`);
  return { built: true, reason, written, outputs };
}

async function main() {
  const { values } = parseArgs({
    options: {
      'if-stale': { type: 'boolean', default: false },
      outdir: { type: 'string' },
      quiet: { type: 'boolean' },
    },
  });
  const outdir = resolve(values.outdir ?? join(root, 'dist', 'cli'));
  const started = performance.now();
  const outcome = await buildCli({ outdir, ifStale: values['if-stale'] });
  const where = relative(process.cwd(), outdir) || '.';
  if (outcome.note) console.error(`build-cli: ${outcome.note}; keeping ${where}`);
  else if (!outcome.built) {
    if (!values.quiet) console.error(`build-cli: ${where} is up to date`);
  } else if (!values.quiet || outcome.written.length > 0) {
    const ms = Math.round(performance.now() - started);
    console.error(
      `built the CLI into ${where} (${outcome.written.length} of ${outcome.outputs.length} files changed, ${outcome.reason}) in ${ms} ms`,
    );
  }
}

if (process.argv[1] && resolve(process.argv[1]) === thisScript) {
  main().catch((error) => {
    console.error(`build-cli failed: ${error?.message ?? error}`);
    process.exitCode = 1;
  });
}
