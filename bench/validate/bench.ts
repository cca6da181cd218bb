import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureDataset } from './generate.ts';

/**
 * `npm run bench [-- validate] [-- --size 1GB] [-- --runs N]` (the default of bench/run.ts):
 * generates (once, cached in bench/.data/) a realistic dataset, then measures tunedrop's
 * validator and a floor that only splits lines and JSON.parses them, each run in its own process. Prints MB/s, peak RSS, the ratio and PASS/MISS
 * per target. Never fails: it is a measurement, not a test.
 */
// `npm run bench -- burst`: the quota-burst benchmark instead (bench/burst/run.ts).
if (process.argv[2] === 'burst') {
  await import('../burst/run.ts');
  process.exit(0);
}

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { size: { type: 'string', default: '256MB' }, runs: { type: 'string', default: '3' } },
});

function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(KB|MB|GB)?$/i.exec(text.trim());
  if (!match) throw new Error(`--size: expected e.g. 256MB or 1GB, got "${text}"`);
  const unit = { KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[
    (match[2] ?? 'MB').toUpperCase() as 'KB' | 'MB' | 'GB'
  ];
  return Math.round(Number(match[1]) * unit);
}

interface Measurement {
  bytes: number;
  seconds: number;
  maxRssBytes: number;
}

const here = fileURLToPath(new URL('.', import.meta.url));
const size = parseSize(values.size);
const runs = Math.max(1, Number(values.runs) || 3);
const file = `${here}../.data/validate-${values.size.toUpperCase()}.jsonl`;
console.log(`dataset: ${file} (generating if missing)`);
await ensureDataset(file, size);

function measure(mode: 'floor' | 'validator'): Measurement {
  const child = spawnSync(process.execPath, ['--import', 'tsx', `${here}measure.ts`, mode, file], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (child.status !== 0) throw new Error(`${mode} failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').pop()!) as Measurement;
}

const results: Record<'floor' | 'validator', Measurement[]> = { floor: [], validator: [] };
for (let i = 0; i < runs; i++) {
  // Alternated, so a slow moment of the machine does not land on one side only.
  results.floor.push(measure('floor'));
  results.validator.push(measure('validator'));
}

const mbPerSecond = (m: Measurement) => m.bytes / 1024 / 1024 / m.seconds;
const best = (list: Measurement[]) => Math.max(...list.map(mbPerSecond));
const peak = (list: Measurement[]) => Math.max(...list.map((m) => m.maxRssBytes)) / 1024 / 1024;
const floorSpeed = best(results.floor);
const validatorSpeed = best(results.validator);
const ratio = validatorSpeed / floorSpeed;
const validatorRss = peak(results.validator);

console.log(`size: ${(size / 1024 / 1024).toFixed(0)} MB, ${runs} runs each, best run reported`);
console.log(
  `floor      ${floorSpeed.toFixed(0).padStart(5)} MB/s  peak RSS ${peak(results.floor).toFixed(0)} MB`,
);
console.log(
  `validator  ${validatorSpeed.toFixed(0).padStart(5)} MB/s  peak RSS ${validatorRss.toFixed(0)} MB`,
);
console.log(`ratio (validator/floor): ${ratio.toFixed(2)}`);
console.log(`${ratio >= 0.8 ? 'PASS' : 'MISS'} throughput >= 0.8x floor (${ratio.toFixed(2)}x)`);
const rssNote = size >= 1024 ** 3 ? '' : ' (the target is for a 1 GB file: --size 1GB)';
console.log(
  `${validatorRss < 150 ? 'PASS' : 'MISS'} peak RSS < 150 MB (${validatorRss.toFixed(0)} MB)${rssNote}`,
);
