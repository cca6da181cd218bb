import { createReadStream } from 'node:fs';
import { validateDataset } from '../../shared/dataset/index.ts';

/**
 * `measure.ts FILE MODEL`: validates FILE with the real tokenizer (on its worker thread) in this
 * process alone, and prints {seconds, maxRssBytes, examples, errors, warnings} as JSON.
 */
const [file, model] = process.argv.slice(2);
if (!file || !model) {
  console.error('usage: measure.ts FILE MODEL');
  process.exit(2);
}
const started = performance.now();
const report = await validateDataset(createReadStream(file, { highWaterMark: 1 << 20 }), { model });
const seconds = (performance.now() - started) / 1000;
console.log(
  JSON.stringify({
    seconds,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    examples: report.examples,
    errors: report.errors.length,
    warnings: report.warnings.length,
  }),
);
