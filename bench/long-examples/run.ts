import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Measured, measure } from './process-tree.ts';

/**
 * Long examples: ten examples of about 900 KB each, every one over the model's token limit, which
 * the validator must count with the tokenizer. Target: seconds, not minutes, and under 400 MB of
 * peak RSS, on both paths users take: the library and the compiled `tunedrop validate`. Measured
 * beside `node -e 0` started the same way, in the same run, for scale. Two files:
 * prose (what long documents look like) and text with no white space at all (the tokenizer's
 * slowest case), each counted only until past the limit.
 */
const here = fileURLToPath(new URL('.', import.meta.url));
const dataDir = `${here}../.data`;
const EXAMPLES = 10;
const EXAMPLE_CHARS = 900_000;
const MODEL = 'gemini-3.5-flash';

function prose(seed: number): string {
  const words = [
    'tuning',
    'dataset',
    'model',
    'the',
    'of',
    'validation',
    'example',
    'Vertex',
    'bucket',
    'job',
  ];
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < EXAMPLE_CHARS; i++) {
    const word = words[(i * 7 + seed) % words.length]!;
    parts.push(word);
    length += word.length + 1;
  }
  return parts.join(' ');
}

function noSpace(seed: number): string {
  let state = seed + 1;
  const chars: string[] = [];
  for (let i = 0; i < EXAMPLE_CHARS; i++) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    chars.push(String.fromCharCode(97 + (state % 26)));
  }
  return chars.join('');
}

function ensure(name: string, text: (seed: number) => string): string {
  const file = `${dataDir}/long-examples-${name}.jsonl`;
  if (existsSync(file)) return file;
  mkdirSync(dataDir, { recursive: true });
  const lines = Array.from({ length: EXAMPLES }, (_, i) =>
    JSON.stringify({
      contents: [
        { role: 'user', parts: [{ text: text(i) }] },
        { role: 'model', parts: [{ text: 'Summary.' }] },
      ],
    }),
  );
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const MB = 1024 * 1024;
const TARGET_SECONDS = 15;
const TARGET_RSS_MB = 400;

/** The two ways users validate: the library (as ingest-dataset does; run here through tsx, the
 * TypeScript runner, whose own memory counts too) and the compiled CLI, `tunedrop validate`. */
function paths(file: string): [string, string[]][] {
  return [
    ['library', ['--import', 'tsx', `${here}measure.ts`, file, MODEL]],
    ['cli', [`${here}../../bin/tunedrop.js`, 'validate', file, '--model', MODEL, '--json']],
  ];
}

export async function runLongExamplesBench(): Promise<void> {
  const baseline = await measure(['-e', '0']);
  console.log(`\nlong examples: ${EXAMPLES} × ${EXAMPLE_CHARS / 1000} KB, ${MODEL}, real tokenizer`);
  console.log(
    'seconds: wall time of the whole command; peak RSS: the process (worker threads included) and its children',
  );
  console.log(`baseline         node -e 0: ${(baseline.peakRssBytes / MB).toFixed(0)} MB`);
  for (const [name, text] of [
    ['prose', prose],
    ['no-space', noSpace],
  ] as const) {
    const file = ensure(name, text);
    for (const [path, args] of paths(file)) {
      const m = await measure(args);
      // validate exits 1 for an invalid dataset, as this one is (every example over the limit).
      if (m.status !== 0 && m.status !== 1) throw new Error(`${path} ${name} exited with ${m.status}`);
      const examples = path === 'cli' ? (JSON.parse(m.stdout) as { examples: number }).examples : lastJson(m);
      if (examples !== EXAMPLES) throw new Error(`${path} ${name}: ${examples} examples, not ${EXAMPLES}`);
      const rss = m.peakRssBytes / MB;
      const label = `${name} ${path}`.padEnd(16);
      console.log(
        `${label} ${m.seconds.toFixed(1).padStart(5)} s  peak RSS ${rss.toFixed(0)} MB (own ${(m.ownPeakBytes / MB).toFixed(0)}, tree sampled ${(m.treePeakBytes / MB).toFixed(0)})`,
      );
      console.log(
        `${m.seconds <= TARGET_SECONDS ? 'PASS' : 'MISS'} ${label} seconds, not minutes (≤ ${TARGET_SECONDS} s)   ${rss < TARGET_RSS_MB ? 'PASS' : 'MISS'} peak RSS < ${TARGET_RSS_MB} MB`,
      );
    }
  }
}

function lastJson(m: Measured): number {
  const last = m.stdout.trim().split('\n').pop() ?? '';
  return (JSON.parse(last) as { examples: number }).examples;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await runLongExamplesBench();
