import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  requireModel,
  type ValidateOptions,
  type ValidationReport,
  validateDataset,
} from '../../../shared/dataset/index.ts';
import { BlockPool } from '../../../shared/dataset/worker-pool.ts';
import { line, model, user } from './helpers.ts';

const FIXTURES = 'test/fixtures/datasets';

/** Streams `bytes` in chunks of `chunkBytes`, as a file or Cloud Storage stream would. */
async function* chunked(bytes: Buffer, chunkBytes: number) {
  for (let i = 0; i < bytes.length; i += chunkBytes) yield bytes.subarray(i, i + chunkBytes);
}

/** A deterministic word counter standing in for the Gemma tokenizer (it runs on the calling thread). */
const loadCounter = async () => ({ count: (text: string) => Math.ceil(text.split(' ').length * 1.3) });

async function bothPaths(bytes: Buffer, options: Partial<ValidateOptions> = {}) {
  const base = { model: 'gemini-3.5-flash', loadCounter, ...options };
  const counts = { workerBlocks: 0, callerBlocks: 0 };
  const single = await validateDataset(chunked(bytes, 1 << 20), { ...base, parallel: { workers: 0 } });
  const parallel = await validateDataset(chunked(bytes, 100_003), {
    ...base,
    parallel: {
      workers: 2,
      thresholdBytes: 0,
      thresholdLines: 0,
      // Every block on a worker thread: the comparison then covers the worker path alone.
      callerValidates: false,
      blockBytes: options.parallel?.blockBytes ?? 64 * 1024,
      counts,
    },
  });
  return { single, parallel, counts };
}

/** A seeded generator, so a failure reproduces. */
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 4_294_967_296;
  };
}

/**
 * About 6 MB of examples with every kind of finding spread over the file: errors of many kinds
 * (more than the cap), warnings, blank and CRLF lines, invalid UTF-8, lines over the line cap,
 * and examples whose byte bound exceeds Gemini 1.5's limit so they are counted precisely.
 */
function mixedDataset(): Buffer {
  const random = rng(7);
  const words = 'the order ships tomorrow invoice refund Grüße 日本 🎉 latency cluster'.split(' ');
  const text = (n: number) =>
    Array.from({ length: n }, () => words[Math.floor(random() * words.length)]).join(' ');
  const lines: Buffer[] = [];
  let size = 0;
  while (size < 6 * 1024 * 1024) {
    const r = random();
    let out: Buffer;
    if (r < 0.002) out = Buffer.from(line({ contents: [user(text(9_000)), model('ok')] }));
    else if (r < 0.003) out = Buffer.from(line({ contents: [user('x'.repeat(300_000)), model('ok')] }));
    else if (r < 0.006) out = Buffer.from('{"contents": [');
    else if (r < 0.008)
      out = Buffer.from(
        line({
          messages: [
            { role: 'user', content: 'a' },
            { role: 'assistant', content: 'b' },
          ],
        }),
      );
    else if (r < 0.01) out = Buffer.from(line({ contents: [model('first'), user('then')] }));
    else if (r < 0.03) out = Buffer.from(line({ contents: [user('a'), model('b')], metadata: { id: 1 } }));
    else if (r < 0.031) out = Buffer.from('');
    else if (r < 0.036)
      out = Buffer.concat([Buffer.from('{"contents":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    else {
      const turns = [];
      for (let t = 0, n = 1 + Math.floor(random() * 3); t < n; t++)
        turns.push(user(text(20 + Math.floor(random() * 200))), model(text(30 + Math.floor(random() * 300))));
      out = Buffer.from(line({ contents: turns }));
    }
    const ending = random() < 0.1 ? '\r\n' : '\n';
    lines.push(out, Buffer.from(ending));
    size += out.length + ending.length;
  }
  return Buffer.concat(lines);
}

describe('parallel validation', { timeout: 60_000 }, () => {
  it('starts no worker for a file of few long lines, and gives the same report as with one', async () => {
    // Twelve examples of ~400 KB: past the byte threshold, far under the line threshold.
    const long = (i: number) => line({ contents: [user(`${'a b c d '.repeat(50_000)}${i}`), model('ok')] });
    const bytes = Buffer.from(`${Array.from({ length: 12 }, (_, i) => long(i)).join('\n')}\n`);
    expect(bytes.length).toBeGreaterThan(4 * 1024 * 1024);
    const options = { model: 'gemini-3.5-flash', loadCounter, maxLineBytes: 1 << 20 };
    const without = { workerBlocks: 0, callerBlocks: 0 };
    const report = await validateDataset(chunked(bytes, 1 << 20), {
      ...options,
      parallel: { workers: 1, counts: without },
    });
    expect(without.workerBlocks).toBe(0);
    expect(without.callerBlocks).toBeGreaterThan(0);
    const withWorker = { workerBlocks: 0, callerBlocks: 0 };
    const onWorker = await validateDataset(chunked(bytes, 1 << 20), {
      ...options,
      parallel: {
        workers: 1,
        thresholdBytes: 0,
        thresholdLines: 0,
        callerValidates: false,
        counts: withWorker,
      },
    });
    expect(withWorker.workerBlocks).toBeGreaterThan(0);
    expect(onWorker).toEqual(report);
    expect(report.warnings.map((issue) => issue.code)).toContain('example_dropped');
  });

  it('gives every fixture the same report on worker threads as on the calling thread', async () => {
    const files = readdirSync(FIXTURES).filter((name) => name.endsWith('.jsonl'));
    expect(files.length).toBeGreaterThan(5);
    for (const name of files) {
      const bytes = readFileSync(`${FIXTURES}/${name}`);
      // One line per block: every block boundary is exercised, even on a small file.
      const { single, parallel, counts } = await bothPaths(bytes, { parallel: { blockBytes: 1 } });
      expect(parallel, name).toEqual(single);
      expect(counts.callerBlocks, name).toBe(0);
      if (bytes.length > 0) expect(counts.workerBlocks, name).toBeGreaterThan(0);
    }
  });

  it('gives a generated multi-MB dataset the same report on both paths, cap and counts included', async () => {
    const bytes = mixedDataset();
    const { single, parallel, counts } = await bothPaths(bytes, {
      model: requireModel('gemini-1.5-pro-002'),
      maxErrors: 10,
      maxLineBytes: 200_000,
      tokenSample: 16,
    });
    expect(counts).toMatchObject({ callerBlocks: 0 });
    expect(counts.workerBlocks).toBeGreaterThan(50);
    expect(parallel).toEqual(single);
    // The report really holds what the comparison is meant to cover.
    expect(single.errorsOmitted).toBeGreaterThan(0);
    expect(single.warningsOmitted).toBeGreaterThan(0);
    const uncapped = await validateDataset(chunked(bytes, 1 << 20), {
      model: requireModel('gemini-1.5-pro-002'),
      maxErrors: 100_000,
      maxLineBytes: 200_000,
      loadCounter,
      parallel: { workers: 0 },
    });
    expect(uncapped.errors.length).toBe(single.errors.length + single.errorsOmitted);
    expect(new Set(uncapped.errors.map((error) => error.code))).toEqual(
      new Set(['json_syntax', 'wrong_format', 'first_role', 'last_role', 'line_too_long', 'invalid_utf8']),
    );
    expect(single.stats.tokens.counted).toBeGreaterThan(0);
    expect(single.stats.estimate.tokens.method).toBe('sampled');
    expect(single.errors.map((error) => error.line)).toEqual(
      [...single.errors.map((error) => error.line)].sort((a, b) => a - b),
    );
  });

  it('lists the first errors of the file whatever the block size', async () => {
    const bytes = mixedDataset().subarray(0, 2 * 1024 * 1024);
    const lastNewline = bytes.lastIndexOf(0x0a);
    const whole = bytes.subarray(0, lastNewline + 1);
    const reports: ValidationReport[] = [];
    for (const blockBytes of [1, 4096, 300_000]) {
      const { parallel } = await bothPaths(whole, { maxErrors: 10, parallel: { blockBytes } });
      reports.push(parallel);
    }
    expect(reports[1]).toEqual(reports[0]);
    expect(reports[2]).toEqual(reports[0]);
  });

  it('rejects, rather than hangs, when a worker dies with a block', async () => {
    const pool = new BlockPool({
      size: 1,
      depth: 2,
      settings: { model: requireModel('gemini-3.5-flash'), maxLineBytes: 1 << 20, maxErrors: 10 },
    });
    try {
      let slot = pool.available();
      for (let i = 0; !slot && i < 600; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        slot = pool.available();
      }
      expect(slot).toBeDefined();
      const block = pool.buffer(3);
      block.write('{}\n');
      // Terminating first makes the block certain to die with the worker: sent after, a block this
      // small could be validated before the worker stops.
      const terminated = slot!.worker.terminate();
      const result = pool.run(slot!, block, 1, 0);
      await terminated;
      await expect(result).rejects.toThrow(/dataset worker exited/);
      expect(pool.failure).toBeInstanceOf(Error);
    } finally {
      await pool.close();
    }
  });

  it('never keeps the process alive after the report', () => {
    const script = [
      "import { validateDataset } from './shared/dataset/index.ts';",
      `const line = ${JSON.stringify(`${line({ contents: [user('hello there'), model('hi')] })}\n`)};`,
      'const bytes = Buffer.from(line.repeat(Math.ceil((8 << 20) / line.length)));',
      'async function* source() { for (let i = 0; i < bytes.length; i += 1 << 20) yield bytes.subarray(i, i + (1 << 20)); }',
      'const counts = { workerBlocks: 0, callerBlocks: 0 };',
      "const report = await validateDataset(source(), { model: 'gemini-3.5-flash', parallel: { workers: 1, thresholdBytes: 0, thresholdLines: 0, callerValidates: false, counts } });",
      'console.log(JSON.stringify({ valid: report.valid, workerBlocks: counts.workerBlocks }));',
    ].join('\n');
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 50_000,
    });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    const result = JSON.parse(child.stdout) as { valid: boolean; workerBlocks: number };
    expect(result.valid).toBe(true);
    expect(result.workerBlocks).toBeGreaterThan(0);
  });
});
