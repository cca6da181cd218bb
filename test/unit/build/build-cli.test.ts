import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain JavaScript build script without type declarations
import { buildCli, staleReason } from '../../../scripts/build-cli.mjs';

const root = resolve(import.meta.dirname, '../../..');
let work: string;

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'tunedrop-build-cli-'));
});
afterEach(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('the CLI build', { timeout: 60_000 }, () => {
  it('rebuilds only when an input changed or an output is missing', async () => {
    const outdir = join(work, 'cli');
    expect(staleReason(outdir)).toBe('no previous build');
    const first = await buildCli({ outdir, ifStale: true });
    expect(first.built).toBe(true);
    expect(first.outputs).toEqual(
      expect.arrayContaining(['tunedrop.js', 'functions.js', 'dataset-worker.js']),
    );
    expect(staleReason(outdir)).toBeUndefined();
    expect((await buildCli({ outdir, ifStale: true })).built).toBe(false);

    const info = JSON.parse(readFileSync(join(outdir, 'build-info.json'), 'utf8'));
    info.inputs['cli/main.ts'] = 'a hash of some older main.ts';
    writeFileSync(join(outdir, 'build-info.json'), JSON.stringify(info));
    expect(staleReason(outdir)).toBe('cli/main.ts changed');
    const second = await buildCli({ outdir, ifStale: true });
    expect(second.built).toBe(true);
    // Same sources, same bytes: nothing is rewritten under a running CLI.
    expect(second.written).toEqual([]);

    rmSync(join(outdir, 'dataset-worker.js'));
    expect(staleReason(outdir)).toBe('dataset-worker.js is missing');
  });

  it('makes the bin say how to build when dist/cli is missing', () => {
    mkdirSync(join(work, 'bin'));
    copyFileSync(join(root, 'bin', 'tunedrop.js'), join(work, 'bin', 'tunedrop.js'));
    writeFileSync(join(work, 'package.json'), '{"type":"module"}');
    const result = spawnSync(process.execPath, [join(work, 'bin', 'tunedrop.js'), '--help'], {
      encoding: 'utf8',
    });
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe(
      'tunedrop: the CLI is not built (dist/cli is missing): run `npm run build` in the tunedrop folder',
    );
  });
});
