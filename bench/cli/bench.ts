import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { ensureDataset } from '../validate/generate.ts';

/**
 * `npm run bench -- cli [--size 200MB] [--starts N] [--runs N]`: the tunedrop command as a user
 * runs it, each measurement a whole process timed from spawn to exit, beside `node -e 0` and the
 * plain parse floor in the same run (so a busy machine slows both sides):
 *
 * - start: `tunedrop --help` (bin/tunedrop.js, what an installed `tunedrop` runs) and
 *   `npx tunedrop --help` (npm's own start-up included), against `node -e 0`. Target ≤ 250 ms.
 * - end to end: `tunedrop validate FILE --json` and `npx tunedrop validate FILE --json` against
 *   the floor (split lines and JSON.parse each: bench/validate/floor.ts compiled to plain
 *   JavaScript first, loading nothing else, so neither side pays for a TypeScript loader). Target ≥ 1.0× the floor.
 *
 * `npm run bench` builds the CLI first when it is stale (prebench). Never fails: it is a
 * measurement, not a test. Prints the median and best of each; targets are judged on the median
 * for start-up and on the best run for throughput, as bench/validate does.
 */
const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    size: { type: 'string', default: '200MB' },
    starts: { type: 'string', default: '10' },
    runs: { type: 'string', default: '3' },
  },
});

const root = fileURLToPath(new URL('../../', import.meta.url));
const dataDir = `${root}bench/.data/`;
const bin = `${root}bin/tunedrop.js`;

function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(KB|MB|GB)?$/i.exec(text.trim());
  if (!match) throw new Error(`--size: expected e.g. 200MB or 1GB, got "${text}"`);
  const unit = { KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[
    (match[2] ?? 'MB').toUpperCase() as 'KB' | 'MB' | 'GB'
  ];
  return Math.round(Number(match[1]) * unit);
}

/** Wall time of one process, spawn to exit, in ms; throws if it fails. */
function timed(command: string, args: string[], expectCode = 0): number {
  const started = performance.now();
  const child = spawnSync(command, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  const ms = performance.now() - started;
  if (child.status !== expectCode) {
    throw new Error(`${command} ${args.join(' ')} exited ${child.status}: ${child.stderr.slice(0, 500)}`);
  }
  return ms;
}

const median = (list: number[]) => {
  const sorted = [...list].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const best = (list: number[]) => Math.min(...list);
const ms = (value: number) => `${value.toFixed(0).padStart(5)} ms`;
const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');

const load = loadavg().map((value) => value.toFixed(2));
console.log(
  `machine: ${availableParallelism()} cores, load average ${load.join(' ')} at the start (shared: figures move with it)`,
);

// --- start-up -------------------------------------------------------------------------------
const starts = Math.max(1, Number(values.starts) || 10);
const start = { node: [] as number[], bin: [] as number[], npx: [] as number[] };
for (let i = 0; i < starts; i++) {
  // Interleaved, so a slow moment of the machine does not land on one side only.
  start.node.push(timed(process.execPath, ['-e', '0']));
  start.bin.push(timed(process.execPath, [bin, '--help']));
  start.npx.push(timed('npx', ['--no-install', 'tunedrop', '--help']));
}
console.log(`\nstart-up, ${starts} runs each: median (best)`);
console.log(`  node -e 0                ${ms(median(start.node))} (${ms(best(start.node)).trim()})`);
console.log(`  tunedrop --help          ${ms(median(start.bin))} (${ms(best(start.bin)).trim()})`);
console.log(`  npx tunedrop --help      ${ms(median(start.npx))} (${ms(best(start.npx)).trim()})`);
const startMedian = median(start.bin);
console.log(
  `${verdict(startMedian <= 250)} tunedrop --help <= 250 ms (${startMedian.toFixed(0)} ms; ${(startMedian - median(start.node)).toFixed(0)} ms over node -e 0; npx adds ${(median(start.npx) - startMedian).toFixed(0)} ms of npm's own start-up)`,
);

// --- end to end validate ---------------------------------------------------------------------
const size = parseSize(values.size);
const file = `${dataDir}validate-${values.size.toUpperCase()}.jsonl`;
console.log(`\ndataset: ${file} (generating if missing)`);
await ensureDataset(file, size);

// Compiled into a folder of its own, removed at the end.
const scratch = mkdtempSync(join(tmpdir(), 'tunedrop-bench-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
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

const runs = Math.max(1, Number(values.runs) || 3);
const e2e = { floor: [] as number[], bin: [] as number[], npx: [] as number[] };
for (let i = 0; i < runs; i++) {
  e2e.floor.push(timed(process.execPath, [floorScript, file]));
  e2e.bin.push(timed(process.execPath, [bin, 'validate', file, '--json']));
  e2e.npx.push(timed('npx', ['--no-install', 'tunedrop', 'validate', file, '--json']));
}
const megabytes = size / 1024 / 1024;
const rate = (time: number) => `${(megabytes / (time / 1000)).toFixed(0).padStart(4)} MB/s`;
const floorBest = best(e2e.floor);
const ratio = (list: number[]) => floorBest / best(list);
console.log(`end to end, ${megabytes.toFixed(0)} MB, ${runs} runs each, whole process: best (median)`);
console.log(
  `  floor: node, split + JSON.parse   ${ms(floorBest)} ${rate(floorBest)}  (${ms(median(e2e.floor)).trim()})`,
);
console.log(
  `  tunedrop validate --json          ${ms(best(e2e.bin))} ${rate(best(e2e.bin))}  (${ms(median(e2e.bin)).trim()})  ${ratio(e2e.bin).toFixed(2)}x the floor`,
);
console.log(
  `  npx tunedrop validate --json      ${ms(best(e2e.npx))} ${rate(best(e2e.npx))}  (${ms(median(e2e.npx)).trim()})  ${ratio(e2e.npx).toFixed(2)}x the floor`,
);
console.log(
  `${verdict(ratio(e2e.npx) >= 1)} npx tunedrop validate >= 1.0x the floor end to end (${ratio(e2e.npx).toFixed(2)}x)`,
);
console.log(
  `${verdict(ratio(e2e.bin) >= 1)} tunedrop validate >= 1.0x the floor end to end (${ratio(e2e.bin).toFixed(2)}x)`,
);
console.log(
  `load average at the end: ${loadavg()
    .map((value) => value.toFixed(2))
    .join(' ')}`,
);
