import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { ensureDataset } from '../validate/generate.ts';

/**
 * `npm run bench -- cli [--size 200MB] [--starts N] [--runs N]`: the tunedrop command as a user
 * runs it, each measurement a whole process timed from spawn to exit, beside its baseline measured
 * in the same run, the two alternated so a busy moment of a shared machine slows both sides:
 *
 * - start: `tunedrop --help` (bin/tunedrop.js, what an installed `tunedrop` runs) against
 *   `node -e 0`. Target ≤ 250 ms (the median).
 * - npm's own share: `npx node -e 0` against `node -e 0` is npm's fixed start-up; `npx tunedrop
 *   --help` run in this repository and run from a project that depends on tunedrop (npx then finds
 *   node_modules/.bin/tunedrop) against `tunedrop --help` is what npx adds to tunedrop.
 * - end to end: `tunedrop validate FILE --json` and `npx tunedrop validate FILE --json` against
 *   the floor (split lines and JSON.parse each: bench/validate/floor.ts compiled to plain
 *   JavaScript first, loading nothing else, so neither side pays for a TypeScript loader). Target
 *   ≥ 1.0× the floor, judged on the median of the per-run ratios (each run's floor / its command).
 *
 * `npm run bench` builds the CLI first when it is stale (prebench). Never fails: it is a
 * measurement, not a test. Every figure is printed with the load average when it was taken.
 */
const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    size: { type: 'string', default: '200MB' },
    starts: { type: 'string', default: '10' },
    runs: { type: 'string', default: '5' },
  },
});

const root = fileURLToPath(new URL('../../', import.meta.url));
const dataDir = `${root}bench/.data/`;
const bin = `${root}bin/tunedrop.js`;
const cores = availableParallelism();

function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(KB|MB|GB)?$/i.exec(text.trim());
  if (!match) throw new Error(`--size: expected e.g. 200MB or 1GB, got "${text}"`);
  const unit = { KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[
    (match[2] ?? 'MB').toUpperCase() as 'KB' | 'MB' | 'GB'
  ];
  return Math.round(Number(match[1]) * unit);
}

/** Wall time of one process, spawn to exit, in ms; throws if it fails. */
function timed(command: string, args: string[], cwd = root): number {
  const started = performance.now();
  const child = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  const ms = performance.now() - started;
  if (child.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${child.status}: ${child.stderr.slice(0, 500)}`);
  }
  return ms;
}

const median = (list: number[]) => {
  const sorted = [...list].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const ms = (value: number) => `${value.toFixed(0).padStart(5)} ms`;
const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');
const load = () => `load ${loadavg()[0]!.toFixed(2)}`;
const label = (text: string) => `  ${text.padEnd(36)}`;

console.log(
  `machine: ${cores} cores, load average ${loadavg()
    .map((value) => value.toFixed(2))
    .join(
      ' ',
    )} at the start${loadavg()[0]! > cores ? ' (busy: the figures will be noisy, the ratios less so)' : ''}`,
);

const scratch = mkdtempSync(join(tmpdir(), 'tunedrop-bench-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

/**
 * A project that depends on tunedrop, as npm would lay it out: `npx tunedrop` there finds
 * node_modules/.bin/tunedrop and runs it. In this repository npx instead runs the package's own
 * bin, which npm does by loading the repository's whole dependency tree first (libnpmexec).
 */
const dependent = join(scratch, 'dependent');
mkdirSync(join(dependent, 'node_modules', '.bin'), { recursive: true });
writeFileSync(
  join(dependent, 'package.json'),
  '{"name":"uses-tunedrop","private":true,"dependencies":{"tunedrop":"*"}}\n',
);
symlinkSync(root.replace(/\/$/, ''), join(dependent, 'node_modules', 'tunedrop'));
symlinkSync(bin, join(dependent, 'node_modules', '.bin', 'tunedrop'));

// --- start-up -------------------------------------------------------------------------------
const starts = Math.max(1, Number(values.starts) || 10);
const start = {
  node: [] as number[],
  bin: [] as number[],
  npxNode: [] as number[],
  npx: [] as number[],
  npxDependent: [] as number[],
};
for (let i = 0; i < starts; i++) {
  start.node.push(timed(process.execPath, ['-e', '0']));
  start.bin.push(timed(process.execPath, [bin, '--help']));
  start.npxNode.push(timed('npx', ['--no-install', 'node', '-e', '0']));
  start.npx.push(timed('npx', ['--no-install', 'tunedrop', '--help']));
  start.npxDependent.push(timed('npx', ['--no-install', 'tunedrop', '--help'], dependent));
}
const node0 = median(start.node);
const help = median(start.bin);
const npmFixed = median(start.npxNode) - node0;
const npxAdds = median(start.npx) - help;
console.log(`\nstart-up, ${starts} alternating runs each, median; ${load()} at the end`);
console.log(`${label('node -e 0 (baseline)')}${ms(node0)}`);
console.log(
  `${label('tunedrop --help')}${ms(help)}  +${(help - node0).toFixed(0)} ms over node -e 0  ${verdict(help <= 250)} ≤ 250 ms`,
);
console.log(
  `${label("npx node -e 0 (npm's own start-up)")}${ms(median(start.npxNode))}  npm's fixed cost: +${npmFixed.toFixed(0)} ms over node -e 0`,
);
console.log(
  `${label('npx tunedrop --help, in this repo')}${ms(median(start.npx))}  npx adds ${npxAdds.toFixed(0)} ms to tunedrop --help (npm's fixed cost + ${(npxAdds - npmFixed).toFixed(0)} ms loading the repo's dependency tree to run its own bin)`,
);
console.log(
  `${label('npx tunedrop --help, as a dependency')}${ms(median(start.npxDependent))}  npx adds ${(median(start.npxDependent) - help).toFixed(0)} ms (from a project with node_modules/.bin/tunedrop)`,
);

// --- end to end validate ---------------------------------------------------------------------
const size = parseSize(values.size);
const file = `${dataDir}validate-${values.size.toUpperCase()}.jsonl`;
console.log(`\ndataset: ${file} (generating if missing)`);
await ensureDataset(file, size);

const floorScript = join(scratch, 'floor-process.mjs');
await build({
  entryPoints: [`${root}bench/cli/floor-process.ts`],
  outfile: floorScript,
  bundle: true,
  format: 'esm',
  platform: 'node',
  packages: 'external',
  logLevel: 'warning',
});

const runs = Math.max(1, Number(values.runs) || 5);
const e2e = { floor: [] as number[], bin: [] as number[], npx: [] as number[] };
const validateArgs = ['validate', file, '--json'];
for (let i = 0; i < runs; i++) {
  e2e.floor.push(timed(process.execPath, [floorScript, file]));
  e2e.bin.push(timed(process.execPath, [bin, ...validateArgs]));
  e2e.npx.push(timed('npx', ['--no-install', 'tunedrop', ...validateArgs]));
}
const megabytes = size / 1024 / 1024;
const rate = (time: number) => `${(megabytes / (time / 1000)).toFixed(0).padStart(4)} MB/s`;
/** The median of each run's floor / command, and their spread. */
const ratios = (list: number[]) => {
  const each = list.map((time, i) => e2e.floor[i]! / time);
  return { median: median(each), min: Math.min(...each), max: Math.max(...each) };
};
const spread = (r: { min: number; max: number }) => `${r.min.toFixed(2)}–${r.max.toFixed(2)}`;
const binRatio = ratios(e2e.bin);
const npxRatio = ratios(e2e.npx);
console.log(
  `end to end, ${megabytes.toFixed(0)} MB, ${runs} alternating runs each, whole process, median; ${load()} at the end`,
);
console.log(`${label('floor: node, split + JSON.parse')}${ms(median(e2e.floor))} ${rate(median(e2e.floor))}`);
console.log(
  `${label('tunedrop validate --json')}${ms(median(e2e.bin))} ${rate(median(e2e.bin))}  ${binRatio.median.toFixed(2)}× the floor (runs ${spread(binRatio)})  ${verdict(binRatio.median >= 1)} ≥ 1.0×`,
);
console.log(
  `${label('npx tunedrop validate --json')}${ms(median(e2e.npx))} ${rate(median(e2e.npx))}  ${npxRatio.median.toFixed(2)}× the floor (runs ${spread(npxRatio)})  ${verdict(npxRatio.median >= 1)} ≥ 1.0×`,
);
// Whose time the npx run is: what npx adds here beside what it added to --help above.
console.log(
  `    npx adds ${(median(e2e.npx) - median(e2e.bin)).toFixed(0)} ms to tunedrop validate here, ${npxAdds.toFixed(0)} ms to tunedrop --help above (npm's start-up ${npmFixed.toFixed(0)} ms, its load of the dependency tree the rest)`,
);
console.log(
  `load average at the end: ${loadavg()
    .map((value) => value.toFixed(2))
    .join(' ')}`,
);
