import { execFile, spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackLockName } from '../../local/stack-lock.ts';
import { jobIdFor } from '../../shared/jobs/index.ts';
import { type ApiStack, createJob, startApiStack } from './api-fixtures.ts';

const bin = fileURLToPath(new URL('../../bin/tunedrop.js', import.meta.url));
const sample = fileURLToPath(new URL('../../local/sample/support-answers.jsonl', import.meta.url));
const bucket = 'submit-test-bucket';
const env = { ...process.env, TUNEDROP_BUCKET: bucket, TUNEDROP_BUCKET_DIR: '' };

function tunedrop(args: string[]) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile('node', [bin, ...args], { env }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function generationOf(path: string): Promise<string> {
  return ((await stat(path, { bigint: true })).mtimeNs / 1000n).toString();
}

/**
 * A bucket folder as a running stack marks it (local/stack-lock.ts): a lock naming a live pid,
 * here this test process. `submit` refuses folders no stack watches.
 */
async function watchedFolder(bucketDir: string): Promise<string> {
  await mkdir(bucketDir, { recursive: true });
  await writeFile(
    join(bucketDir, stackLockName),
    JSON.stringify({ pid: process.pid, startTime: new Date().toISOString() }),
  );
  return bucketDir;
}

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tunedrop-submit-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('tunedrop submit', () => {
  it('uploads a valid file under incoming/ and prints the job id of the written generation', async () => {
    const bucketDir = await watchedFolder(join(work, 'bucket-single'));
    const result = await tunedrop([
      'submit',
      sample,
      '--bucket-dir',
      bucketDir,
      '--model',
      'gemini-3.5-flash-lite',
    ]);
    expect(result.code).toBe(0);
    const object = 'incoming/support-answers.jsonl';
    const written = join(bucketDir, object);
    expect(await readFile(written, 'utf8')).toBe(await readFile(sample, 'utf8'));
    const expected = jobIdFor({ bucket, object, generation: await generationOf(written) });
    expect(result.stdout.trim()).toBe(expected);
    // --model is the object's base-model metadata, in the local store's sidecar.
    expect(JSON.parse(await readFile(`${written}.metadata.json`, 'utf8'))).toEqual({
      'base-model': 'gemini-3.5-flash-lite',
    });
  });

  it('refuses a retired model before uploading, with its date and replacements (exit 1)', async () => {
    const bucketDir = await watchedFolder(join(work, 'bucket-retired'));
    const result = await tunedrop([
      'submit',
      sample,
      '--bucket-dir',
      bucketDir,
      '--model',
      'gemini-2.0-flash',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      '/baseModel: gemini-2.0-flash-001 was retired on 2026-06-01; use gemini-3.5-flash-lite or gemini-3.5-flash',
    );
    expect(result.stderr).toContain('Nothing uploaded.');
    await expect(stat(join(bucketDir, 'incoming'))).rejects.toThrow();
  });

  it('uploads for an unknown model with a warning: Vertex AI answers for it', async () => {
    const bucketDir = await watchedFolder(join(work, 'bucket-unknown'));
    const result = await tunedrop(['submit', sample, '--bucket-dir', bucketDir, '--model', 'gemini-9-flash']);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(
      /note: .*\/baseModel: unknown model "gemini-9-flash": checked with conservative limits/,
    );
  });

  it('never overwrites an existing object (exit 1)', async () => {
    const bucketDir = await watchedFolder(join(work, 'bucket-twice'));
    expect((await tunedrop(['submit', sample, '--bucket-dir', bucketDir])).code).toBe(0);
    const before = await generationOf(join(bucketDir, 'incoming/support-answers.jsonl'));
    const again = await tunedrop(['submit', sample, '--bucket-dir', bucketDir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('exists already');
    expect(await generationOf(join(bucketDir, 'incoming/support-answers.jsonl'))).toBe(before);
  });

  it('refuses a folder no stack watches, or whose stack is gone, uploading nothing (exit 2)', async () => {
    const bucketDir = join(work, 'bucket-unwatched');
    const result = await tunedrop(['submit', sample, '--bucket-dir', bucketDir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`no tunedrop stack is watching ${bucketDir}`);
    await expect(stat(join(bucketDir, 'incoming'))).rejects.toThrow();

    // A lock left by a stack that died (its pid no longer exists) watches nothing either.
    await mkdir(bucketDir, { recursive: true });
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((exited) => dead.once('exit', exited));
    await writeFile(
      join(bucketDir, stackLockName),
      JSON.stringify({ pid: dead.pid, startTime: '2026-01-01T00:00:00Z' }),
    );
    expect((await tunedrop(['submit', sample, '--bucket-dir', bucketDir])).code).toBe(2);
    await expect(stat(join(bucketDir, 'incoming'))).rejects.toThrow();
  });

  it('uploads nothing when the dataset is invalid, printing the errors (exit 1)', async () => {
    const bucketDir = await watchedFolder(join(work, 'bucket-invalid'));
    const bad = join(work, 'bad.jsonl');
    await writeFile(bad, '{"contents": "not a list"}\nnot json at all\n');
    const result = await tunedrop(['submit', bad, '--bucket-dir', bucketDir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/bad\.jsonl:2 /);
    expect(result.stderr).toContain('Nothing uploaded.');
    await expect(stat(join(bucketDir, 'incoming'))).rejects.toThrow();
  });

  it('uploads a folder with a manifest as incoming/<dir>/, the manifest first, job id from the manifest', async () => {
    const dir = join(work, 'support-run');
    await mkdir(join(dir, 'data'), { recursive: true });
    await copyFile(sample, join(dir, 'data', 'train.jsonl'));
    await writeFile(join(dir, 'notes.txt'), 'not uploaded');
    await writeFile(
      join(dir, 'tuning.json'),
      JSON.stringify({ baseModel: 'gemini-3.5-flash', trainingDataset: 'data/train.jsonl', epochCount: 2 }),
    );
    const bucketDir = await watchedFolder(join(work, 'bucket-manifest'));
    const result = await tunedrop(['submit', dir, '--bucket-dir', bucketDir, '--json']);
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout);
    const manifest = join(bucketDir, 'incoming/support-run/tuning.json');
    expect(output.object).toBe('incoming/support-run/tuning.json');
    // The manifest first: a dataset arriving before its folder's manifest would start a job of its own.
    expect(output.uploaded.map((u: { object: string }) => u.object)).toEqual([
      'incoming/support-run/tuning.json',
      'incoming/support-run/data/train.jsonl',
    ]);
    expect(output.jobId).toBe(
      jobIdFor({
        bucket,
        object: 'incoming/support-run/tuning.json',
        generation: await generationOf(manifest),
      }),
    );
    const dataset = join(bucketDir, 'incoming/support-run/data/train.jsonl');
    expect(BigInt(await generationOf(dataset))).toBeGreaterThanOrEqual(BigInt(await generationOf(manifest)));
    await expect(stat(join(bucketDir, 'incoming/support-run/notes.txt'))).rejects.toThrow();
  });

  it('uploads nothing, not even the manifest, when a dataset object exists already (exit 1)', async () => {
    const dir = join(work, 'support-rerun');
    await mkdir(dir, { recursive: true });
    await copyFile(sample, join(dir, 'train.jsonl'));
    await writeFile(join(dir, 'tuning.json'), JSON.stringify({ trainingDataset: 'train.jsonl' }));
    const bucketDir = await watchedFolder(join(work, 'bucket-rerun'));
    const stale = join(bucketDir, 'incoming/support-rerun/train.jsonl');
    await mkdir(join(bucketDir, 'incoming/support-rerun'), { recursive: true });
    await writeFile(stale, 'an older upload\n');

    const result = await tunedrop(['submit', dir, '--bucket-dir', bucketDir]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('exists already');
    // A manifest written now would take the older object as its dataset.
    await expect(stat(join(bucketDir, 'incoming/support-rerun/tuning.json'))).rejects.toThrow();
    expect(await readFile(stale, 'utf8')).toBe('an older upload\n');
  });

  it('uploads nothing when the manifest is invalid', async () => {
    const dir = join(work, 'bad-manifest');
    await mkdir(dir, { recursive: true });
    await copyFile(sample, join(dir, 'train.jsonl'));
    await writeFile(join(dir, 'tuning.json'), JSON.stringify({ trainingDataset: 'train.jsonl', epochs: 2 }));
    const bucketDir = await watchedFolder(join(work, 'bucket-bad-manifest'));
    const result = await tunedrop(['submit', dir, '--bucket-dir', bucketDir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('/epochs: unknown field (did you mean "epochCount"?)');
    await expect(stat(join(bucketDir, 'incoming'))).rejects.toThrow();
  });

  it('exits 2 on usage errors', async () => {
    expect((await tunedrop(['submit'])).code).toBe(2);
    const watched = await watchedFolder(join(work, 'bucket-usage'));
    expect((await tunedrop(['submit', join(work, 'missing.jsonl'), '--bucket-dir', watched])).code).toBe(2);
    expect((await tunedrop(['submit', sample, '--bucket', 'gs://b', '--bucket-dir', work])).code).toBe(2);
  });
});

describe('tunedrop submit --wait', () => {
  let stack: ApiStack;
  beforeAll(async () => {
    stack = await startApiStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('follows the job through the API to SUCCEEDED and exits 0', async () => {
    const bucketDir = await watchedFolder(join(work, 'bucket-wait'));
    const child = spawn(
      'node',
      [bin, 'submit', sample, '--bucket-dir', bucketDir, '--wait', '--api', stack.url],
      {
        env,
      },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const jobId = await new Promise<string>((resolve) => {
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
        if (stdout.includes('\n')) resolve(stdout.trim());
      });
    });
    const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
    // Stand in for ingest and the poller: the record appears, runs, and succeeds.
    await createJob(stack, jobId, { state: 'SUCCEEDED' });
    expect(await exit).toBe(0);
    expect(stderr).toMatch(/SUCCEEDED/);
    expect(stderr).toContain('tuned model: projects/p/locations/l/models/m');
  });

  it("does not mistake an earlier upload's rejection report of the same name for this upload's", async () => {
    const bucketDir = await watchedFolder(join(work, 'bucket-wait-stale-report'));
    // An earlier upload of support-answers.jsonl was rejected; its report is still in the bucket.
    await mkdir(join(bucketDir, 'reports/incoming'), { recursive: true });
    await writeFile(
      join(bucketDir, 'reports/incoming/support-answers.jsonl.report.json'),
      JSON.stringify({ status: 'rejected', generation: '1600000000000000', problems: [] }),
    );
    // In front of the API: tells when submit has been answered 404 for its job, after which it
    // looks at the report; only then does the record appear.
    let sawNotFound: () => void = () => {};
    const notFoundSeen = new Promise<void>((resolve) => {
      sawNotFound = resolve;
    });
    const proxy = createServer(async (request, response) => {
      const answer = await fetch(`${stack.url}${request.url}`, { method: request.method });
      const body = await answer.text();
      response.writeHead(answer.status, { 'content-type': 'application/json' });
      response.end(body);
      if (answer.status === 404) sawNotFound();
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const api = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const child = spawn('node', [bin, 'submit', sample, '--bucket-dir', bucketDir, '--wait', '--api', api], {
      env,
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const jobId = await new Promise<string>((resolve) => {
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
        if (stdout.includes('\n')) resolve(stdout.trim());
      });
    });
    await notFoundSeen;
    await createJob(stack, jobId, { state: 'SUCCEEDED' });
    const code = await exit;
    await new Promise<void>((resolve) => proxy.close(() => resolve()));
    expect(code).toBe(0);
    expect(stderr).not.toContain('rejected');
    expect(stderr).toMatch(/SUCCEEDED/);
  });
});
