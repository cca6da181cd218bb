import { createReadStream } from 'node:fs';
import { validateDataset } from '../../shared/dataset/index.ts';
import { floor, HIGH_WATER_MARK } from './floor.ts';

/**
 * One measurement in its own process, so peak RSS is this workload's alone:
 * `measure.ts floor|validator FILE [WORKERS]` prints {bytes, seconds, maxRssBytes, examples} as JSON
 * (WORKERS: the validator's worker threads, its default when absent; 0 keeps it on one thread).
 */
const [mode, file, workersArg] = process.argv.slice(2);
if (!file || (mode !== 'floor' && mode !== 'validator')) {
  console.error('usage: measure.ts floor|validator FILE [WORKERS]');
  process.exit(2);
}

async function validator(path: string): Promise<{ bytes: number; examples: number }> {
  const report = await validateDataset(createReadStream(path, { highWaterMark: HIGH_WATER_MARK }), {
    model: 'gemini-3.5-flash',
    ...(workersArg === undefined ? {} : { parallel: { workers: Number(workersArg) } }),
  });
  if (!report.valid)
    throw new Error(`benchmark dataset is invalid: ${JSON.stringify(report.errors.slice(0, 3))}`);
  return { bytes: report.stats.bytes, examples: report.examples };
}

const started = performance.now();
const result = mode === 'floor' ? await floor(file) : await validator(file);
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ ...result, seconds, maxRssBytes: process.resourceUsage().maxRSS * 1024 }));
