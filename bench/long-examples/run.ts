import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Long examples: ten examples of about 900 KB each, every one over the model's token limit, which
 * the validator must count with the tokenizer. Target: seconds, not minutes, and under 400 MB of
 * peak RSS (the tokenizer alone is about 300 MB). Measured beside `node -e 0` started the same
 * way, in the same run, so the figure is the validator's and not the machine's mood. Two files:
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

function timed(args: string[]): { seconds: number; maxRssBytes: number; [key: string]: number } {
  const started = performance.now();
  const child = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  const wall = (performance.now() - started) / 1000;
  if (child.status !== 0) throw new Error(`${args.join(' ')} failed: ${child.stderr}`);
  const last = child.stdout.trim().split('\n').pop();
  return last?.startsWith('{') ? JSON.parse(last) : { seconds: wall, maxRssBytes: 0 };
}

export function runLongExamplesBench(): void {
  const baseline = timed([
    '-e',
    'console.log(JSON.stringify({seconds:0,maxRssBytes:process.resourceUsage().maxRSS*1024}))',
  ]);
  console.log(`\nlong examples: ${EXAMPLES} × ${EXAMPLE_CHARS / 1000} KB, ${MODEL}, real tokenizer`);
  console.log(`baseline   node -e 0: peak RSS ${(baseline.maxRssBytes / 1024 / 1024).toFixed(0)} MB`);
  for (const [name, text] of [
    ['prose', prose],
    ['no-space', noSpace],
  ] as const) {
    const file = ensure(name, text);
    const m = timed(['--import', 'tsx', `${here}measure.ts`, file, MODEL]);
    const rss = m.maxRssBytes / 1024 / 1024;
    const ratio = m.maxRssBytes / Math.max(1, baseline.maxRssBytes);
    console.log(
      `${name.padEnd(10)} ${m.seconds.toFixed(1).padStart(6)} s  peak RSS ${rss.toFixed(0)} MB (${ratio.toFixed(1)}x baseline)  ${m.errors} errors`,
    );
    console.log(
      `${m.seconds <= 15 ? 'PASS' : 'MISS'} ${name}: seconds, not minutes (target ≤ 15 s on this machine)`,
    );
    console.log(`${rss < 400 ? 'PASS' : 'MISS'} ${name}: peak RSS < 400 MB`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) runLongExamplesBench();
