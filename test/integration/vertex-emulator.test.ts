/**
 * tunedrop's Vertex AI client against the Vertex AI emulator, over real HTTP on a free port.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startVertexEmulator, type VertexEmulator } from '../../local/vertex-emulator/index.ts';
import type { JobState, TuningSpec } from '../../shared/jobs/model.ts';
import { listManagedJobs } from '../../shared/providers/index.ts';
import { ProviderError, type ProviderJob } from '../../shared/providers/types.ts';
import { createVertexProvider, type VertexProvider } from '../../shared/providers/vertex/index.ts';

const examples = 50;
let bucketDir: string;
let emulator: VertexEmulator;
let vertex: VertexProvider;

const spec = (overrides: Partial<TuningSpec> = {}): TuningSpec => ({
  baseModel: 'gemini-2.5-flash',
  trainingDatasetUri: 'gs://tunedrop-test/incoming/support/train.jsonl',
  epochCount: 2,
  labels: { team: 'support' },
  ...overrides,
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls the job until it reaches the state; the test timeout bounds the wait. */
async function waitForState(name: string, state: JobState): Promise<ProviderJob> {
  for (;;) {
    const job = await vertex.getJob(name);
    if (job.state === state) return job;
    await sleep(50);
  }
}

interface Distribution {
  sum: string;
}
/** The fields of a raw TuningJob these tests read, as the REST API returns them. */
interface RawTuningJob {
  tunedModelDisplayName?: string;
  endTime?: string;
  supervisedTuningSpec: { hyperParameters: { epochCount: string } };
  tuningDataStats: {
    supervisedTuningDataStats: {
      tuningDatasetExampleCount: string;
      tuningStepCount: string;
      totalBillableTokenCount: string;
      userInputTokenDistribution: Distribution;
      userOutputTokenDistribution: Distribution;
    };
  };
}

async function rawJob(name: string): Promise<RawTuningJob> {
  const response = await fetch(`${emulator.url}/v1/${name}`);
  return (await response.json()) as RawTuningJob;
}

beforeAll(async () => {
  bucketDir = await mkdtemp(path.join(tmpdir(), 'tunedrop-vertex-'));
  await mkdir(path.join(bucketDir, 'incoming/support'), { recursive: true });
  const lines = Array.from({ length: examples }, (_, i) =>
    JSON.stringify({
      contents: [
        { role: 'user', parts: [{ text: `How do I reset password number ${i}?` }] },
        { role: 'model', parts: [{ text: `Open settings and choose reset (${i}).` }] },
      ],
    }),
  );
  await writeFile(path.join(bucketDir, 'incoming/support/train.jsonl'), `${lines.join('\n')}\n`);
  emulator = await startVertexEmulator({ port: 0, jobSeconds: 1, bucketDir });
  vertex = createVertexProvider({
    project: 'tunedrop-test',
    region: 'us-central1',
    endpoint: emulator.url,
    retry: { baseDelayMs: 1 },
  });
});

afterEach(() => emulator.reset());

afterAll(async () => {
  await emulator?.close();
  if (bucketDir) await rm(bucketDir, { recursive: true, force: true });
});

describe('Vertex AI emulator with the tunedrop client', () => {
  it('creates a job, finds it by its record label, and sees it succeed with a tuned model and data stats', async () => {
    const created = await vertex.createJob(spec({ tunedModelDisplayName: 'support-bot' }), 'rec-one');
    expect(created.name).toMatch(/^projects\/tunedrop-test\/locations\/us-central1\/tuningJobs\/\d+$/);
    expect(created.state).toBe('PENDING');
    expect(created.labels).toEqual({
      team: 'support',
      'tunedrop-job-id': 'rec-one',
      'tunedrop-managed': 'true',
    });
    expect(created.createTime).toBeDefined();

    const found = await vertex.findJobByRecordId('rec-one');
    expect(found?.name).toBe(created.name);
    expect(await vertex.findJobByRecordId('rec-other')).toBeUndefined();

    const done = await waitForState(created.name, 'SUCCEEDED');
    const totalSteps = Math.ceil(examples / 16) * 2;
    expect(done.progress).toEqual({ currentStep: totalSteps, totalSteps });
    expect(done.result?.tunedModel).toMatch(
      /^projects\/tunedrop-test\/locations\/us-central1\/models\/\d+@1$/,
    );
    expect(done.result?.endpoint).toMatch(
      /^projects\/tunedrop-test\/locations\/us-central1\/endpoints\/\d+$/,
    );
    expect(done.result?.experiment).toBeDefined();

    const raw = await rawJob(created.name);
    expect(raw.supervisedTuningSpec.hyperParameters.epochCount).toBe('2');
    expect(raw.tunedModelDisplayName).toBe('support-bot');
    const stats = raw.tuningDataStats.supervisedTuningDataStats;
    expect(stats.tuningDatasetExampleCount).toBe(String(examples));
    expect(stats.tuningStepCount).toBe(String(totalSteps));
    expect(Number(stats.totalBillableTokenCount)).toBeGreaterThan(0);
    expect(Number(stats.userInputTokenDistribution.sum) + Number(stats.userOutputTokenDistribution.sum)).toBe(
      Number(stats.totalBillableTokenCount),
    );
    expect(raw.endTime).toBeDefined();
  });

  it('cancels a job: CANCELLING, then CANCELLED with error code 1; a second cancel is refused', async () => {
    emulator.faults.set({ stallNextJobs: 1, stallIn: 'RUNNING' });
    const created = await vertex.createJob(spec(), 'rec-cancel');
    await vertex.cancelJob(created.name);
    const cancelled = await waitForState(created.name, 'CANCELLED');
    expect(cancelled.providerState).toBe('JOB_STATE_CANCELLED');
    expect(cancelled.error).toMatchObject({ code: 1 });
    const error = await vertex.cancelJob(created.name).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ httpStatus: 400, status: 'FAILED_PRECONDITION', transient: false });
  });

  it('answers 429 RESOURCE_EXHAUSTED to a create under the fault, creating nothing, then succeeds', async () => {
    emulator.faults.set({ rateLimitCreates: 1 });
    const error = await vertex.createJob(spec(), 'rec-429').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ httpStatus: 429, status: 'RESOURCE_EXHAUSTED', transient: true });
    expect(await vertex.findJobByRecordId('rec-429')).toBeUndefined();
    const created = await vertex.createJob(spec(), 'rec-429');
    expect(created.state).toBe('PENDING');
    expect(emulator.stats()).toMatchObject({ create: 2, list: 1 });
  });

  it('rejects an invalid job with 400 and field violations, as a permanent error', async () => {
    const error = await vertex
      .createJob(
        spec({
          baseModel: 'gemini-1.5-pro-002',
          tunedModelDisplayName: 'x'.repeat(129),
          labels: { Team: 'x' },
        }),
        'rec-400',
      )
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ httpStatus: 400, status: 'INVALID_ARGUMENT', transient: false });
    const details = (error as ProviderError).details as {
      '@type': string;
      fieldViolations: { field: string }[];
    }[];
    expect(details[0]?.['@type']).toBe('type.googleapis.com/google.rpc.BadRequest');
    expect(details[0]?.fieldViolations.map((violation) => violation.field)).toEqual([
      'base_model',
      'tuned_model_display_name',
      'labels[Team]',
    ]);
    expect(await emulator.jobs()).toEqual([]);
  });

  it('pages through jobs with pageSize and pageToken, without duplicates when jobs are created meanwhile', async () => {
    const names = new Set<string>();
    for (let i = 0; i < 7; i++) names.add((await vertex.createJob(spec(), `rec-page-${i}`)).name);
    const seen: string[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const page = await listManagedJobs(vertex, { pageSize: 3, pageToken });
      seen.push(...page.jobs.map((job) => job.name));
      pageToken = page.nextPageToken;
      pages++;
      if (pages === 1) await vertex.createJob(spec(), 'rec-page-late');
    } while (pageToken);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(7);
    expect(new Set(seen)).toEqual(names);
  });

  it('filters by state and creation time', async () => {
    emulator.faults.set({ stallNextJobs: 1, stallIn: 'PENDING' });
    const stalled = await vertex.createJob(spec(), 'rec-stalled');
    const other = await vertex.createJob(spec(), 'rec-other');
    await waitForState(other.name, 'SUCCEEDED');
    const pending = await vertex.listJobs({ states: ['PENDING'] });
    expect(pending.jobs.map((job) => job.name)).toEqual([stalled.name]);
    const succeeded = await vertex.listJobs({
      states: ['SUCCEEDED'],
      labels: { 'tunedrop-managed': 'true' },
    });
    expect(succeeded.jobs.map((job) => job.name)).toEqual([other.name]);
    const future = await vertex.listJobs({ createdAfter: new Date(Date.now() + 60_000).toISOString() });
    expect(future.jobs).toEqual([]);
  });

  it('evaluates AIP-160 filters with OR, NOT, parentheses and label presence', async () => {
    const a = await vertex.createJob(spec({ labels: { kind: 'a' } }), 'rec-a');
    const b = await vertex.createJob(spec({ labels: { kind: 'b' } }), 'rec-b');
    const list = async (filter: string) => {
      const url = `${emulator.url}/v1/projects/tunedrop-test/locations/us-central1/tuningJobs?filter=${encodeURIComponent(filter)}`;
      const body = (await (await fetch(url)).json()) as { tuningJobs?: { name: string }[] };
      return (body.tuningJobs ?? []).map((job) => job.name).sort();
    };
    expect(await list('labels.kind="a" OR labels.kind="b"')).toEqual([a.name, b.name].sort());
    expect(await list('NOT labels.kind="a" AND labels.tunedrop-job-id:*')).toEqual([b.name]);
    expect(await list('(labels.kind="a" OR labels.kind="b") labels.tunedrop-job-id="rec-a"')).toEqual([
      a.name,
    ]);
    expect(await list('state!="JOB_STATE_SUCCEEDED" AND create_time>="2000-01-01T00:00:00Z"')).toHaveLength(
      2,
    );
    expect(await list('labels.nothing:*')).toEqual([]);
    const bad = await fetch(
      `${emulator.url}/v1/projects/tunedrop-test/locations/us-central1/tuningJobs?filter=state%3D%3D(`,
    );
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { status: string } }).error.status).toBe('INVALID_ARGUMENT');
  });

  it('fails a job whose dataset cannot be read, the way Vertex reports it', async () => {
    const created = await vertex.createJob(
      spec({ trainingDatasetUri: 'gs://tunedrop-test/incoming/missing.jsonl' }),
      'rec-missing',
    );
    const failed = await waitForState(created.name, 'FAILED');
    expect(failed.error?.message).toContain('gs://tunedrop-test/incoming/missing.jsonl');
  });

  it('fails the next job on demand, and keeps a stalled job from progressing', async () => {
    emulator.faults.set({ failNextJobs: 1 });
    const failing = await vertex.createJob(spec(), 'rec-fail');
    emulator.faults.set({ stallNextJobs: 1, stallIn: 'RUNNING' });
    const stalled = await vertex.createJob(spec(), 'rec-stall');
    const healthy = await vertex.createJob(spec(), 'rec-healthy');
    const failed = await waitForState(failing.name, 'FAILED');
    expect(failed.error?.code).toBe(13);
    await waitForState(healthy.name, 'SUCCEEDED');
    const stillRunning = await vertex.getJob(stalled.name);
    expect(stillRunning.state).toBe('RUNNING');
    expect(stillRunning.result?.tunedModel).toBeUndefined();
  });

  it('answers 503 UNAVAILABLE at the configured rate; the client retries reads and reports a transient error', async () => {
    const created = await vertex.createJob(spec(), 'rec-503');
    emulator.resetStats();
    emulator.faults.set({ unavailableRate: 1 });
    await expect(vertex.getJob(created.name)).rejects.toMatchObject({
      httpStatus: 503,
      status: 'UNAVAILABLE',
      transient: true,
    });
    expect(emulator.stats().get).toBe(3);
    emulator.faults.set({ unavailableRate: 0 });
    expect((await vertex.getJob(created.name)).name).toBe(created.name);
  });

  it('switches faults and reads counters through the admin endpoint', async () => {
    const set = await fetch(`${emulator.url}/emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ rateLimitCreates: 2 }),
    });
    expect(((await set.json()) as { rateLimitCreates: number }).rateLimitCreates).toBe(2);
    await expect(vertex.createJob(spec(), 'rec-admin')).rejects.toMatchObject({ httpStatus: 429 });
    const stats = (await (await fetch(`${emulator.url}/emulator/stats`)).json()) as { create: number };
    expect(stats.create).toBe(1);
    const invalid = await fetch(`${emulator.url}/emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ unavailableRate: 2 }),
    });
    expect(invalid.status).toBe(400);
  });

  it('answers unknown paths with a 404 envelope and a body that is not JSON with a 400', async () => {
    const missing = await fetch(`${emulator.url}/v1/projects/p/locations/l/nothing`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
    const notJson = await fetch(`${emulator.url}/v1/projects/p/locations/l/tuningJobs`, {
      method: 'POST',
      body: '{nope',
    });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });
    await expect(vertex.getJob('projects/p/locations/l/tuningJobs/42')).rejects.toMatchObject({
      httpStatus: 404,
      transient: false,
    });
  });
});
