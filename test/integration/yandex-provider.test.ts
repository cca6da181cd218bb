/**
 * tunedrop's Yandex AI Studio provider against the Yandex emulator over real gRPC and HTTP:
 * dataset upload (single and multipart), validation, Tune with the record label, polling, the
 * exactly-once lookup, quota and rejection errors, cancel.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startYandexEmulator, type YandexEmulator } from '../../local/yandex-emulator/index.ts';
import type { JobState, TuningSpec } from '../../shared/jobs/model.ts';
import { listManagedJobs, ProviderError, type ProviderJob } from '../../shared/providers/index.ts';
import { createYandexProvider, type YandexProvider } from '../../shared/providers/yandex/index.ts';

const folderId = 'b1gprovidertest';
const row = (index: number) =>
  JSON.stringify({ request: [{ role: 'user', text: `Question ${index}?` }], response: `Answer ${index}.` });
const files: Record<string, Buffer> = {
  'gs://bucket/validated/job/train.jsonl': Buffer.from(
    Array.from({ length: 40 }, (_, i) => row(i)).join('\n'),
  ),
  'gs://bucket/validated/job/bad.jsonl': Buffer.from(
    [...Array.from({ length: 11 }, (_, i) => row(i)), '{"request":[{"role":"user","text":"q"}]}'].join('\n'),
  ),
};
let emulator: YandexEmulator;
let provider: YandexProvider;

function makeProvider(overrides: { chunkBytes?: number } = {}) {
  return createYandexProvider({
    folderId,
    deploymentId: 'provider-test',
    endpoint: emulator.endpoint,
    plaintext: true,
    auth: { kind: 'api-key', apiKey: 'emulator-key' },
    readDataset: async (uri) => {
      const bytes = files[uri];
      if (!bytes) throw new Error(`no such test file ${uri}`);
      return bytes;
    },
    pollIntervalMs: 20,
    ...overrides,
  });
}

const spec = (overrides: Partial<TuningSpec> = {}): TuningSpec => ({
  provider: 'yandex',
  baseModel: 'yandexgpt-lite',
  trainingDatasetUri: 'gs://bucket/validated/job/train.jsonl',
  labels: { team: 'support' },
  yandex: { lr: 0.0002, lora: { rank: 8, alpha: 16 }, nSamples: 160 },
  ...overrides,
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForState(name: string, state: JobState): Promise<ProviderJob> {
  for (;;) {
    try {
      const job = await provider.getJob(name);
      if (job.state === state) return job;
    } catch (error) {
      // Describe answers NOT_FOUND during the first moments after Tune.
      if (!(error instanceof ProviderError && error.httpStatus === 404)) throw error;
    }
    await sleep(40);
  }
}

beforeAll(async () => {
  emulator = await startYandexEmulator({
    taskSeconds: 1.5,
    validateMs: 50,
    describeDelayMs: 200,
    minPartBytes: 64,
  });
  provider = makeProvider();
});
afterEach(() => emulator.reset());
afterAll(async () => {
  provider?.close();
  await emulator?.close();
});

describe('Yandex provider against the emulator', () => {
  it('uploads, validates, tunes with the record label and reports steps and the tuned model', async () => {
    const created = await provider.createJob(spec(), 'record-1');
    expect(created.name).toMatch(/^folders\/b1gprovidertest\/tuningTasks\/ftn/);
    expect(created.state).toBe('PENDING');
    expect(created.labels).toMatchObject({
      'tunedrop-job-id': 'record-1',
      'tunedrop-managed': 'true',
      team: 'support',
    });
    const running = await waitForState(created.name, 'RUNNING');
    expect(running.progress?.totalSteps).toBe(20);
    const done = await waitForState(created.name, 'SUCCEEDED');
    expect(done.result?.tunedModel).toMatch(/^gpt:\/\/b1gprovidertest\/yandexgpt-lite\/latest@tamr/);
    expect(done.progress).toEqual({ totalSteps: 20, currentStep: 20 });
    expect(emulator.tasks()[0]).toMatchObject({
      baseModelUri: 'gpt://b1gprovidertest/yandexgpt-lite/latest',
    });
    const listed = await listManagedJobs(provider);
    expect(listed.jobs.map((job) => job.name)).toEqual([created.name]);
    expect(await provider.findJobByRecordId('record-1')).toMatchObject({ name: created.name });
    expect(await provider.findJobByRecordId('someone-else')).toBeUndefined();
  });

  it('uploads above the chunk size in parts', async () => {
    const small = makeProvider({ chunkBytes: 512 });
    try {
      const created = await small.createJob(spec(), 'record-parts');
      expect(created.state).toBe('PENDING');
      expect(emulator.stats()['DatasetService/StartMultipartUploadDraft']).toBe(1);
      expect(emulator.stats()['DatasetService/FinishMultipartUploadDraft']).toBe(1);
    } finally {
      small.close();
    }
  });

  it("refuses a dataset Yandex's Validate rejects, permanently, with its row numbers", async () => {
    const error = await provider
      .createJob(spec({ trainingDatasetUri: 'gs://bucket/validated/job/bad.jsonl' }), 'record-bad')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).transient).toBe(false);
    expect((error as ProviderError).message).toMatch(/rows 12/);
    expect((error as ProviderError).details).toContainEqual(expect.objectContaining({ rowNumbers: [12] }));
    expect(emulator.stats()['TuningService/Tune']).toBeUndefined();
  });

  it('maps RESOURCE_EXHAUSTED on Tune to a transient 429 and reuses the uploaded dataset next time', async () => {
    emulator.faults.set({ rateLimitTunes: 1 });
    const error = await provider.createJob(spec(), 'record-quota').catch((e: unknown) => e);
    expect(error).toMatchObject({ httpStatus: 429, status: 'RESOURCE_EXHAUSTED', transient: true });
    await provider.createJob(spec(), 'record-quota');
    expect(emulator.stats()['DatasetService/Create']).toBe(1);
    expect(emulator.tasks()).toHaveLength(1);
  });

  it('finds the task of a Tune whose answer was lost, by its label', async () => {
    emulator.faults.set({ loseNextTuneResponses: 1 });
    const error = await provider.createJob(spec(), 'record-lost').catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 'UNAVAILABLE', transient: true });
    let found: ProviderJob | undefined;
    while (!found) {
      found = await provider.findJobByRecordId('record-lost');
      await sleep(50);
    }
    expect(found.name).toContain(emulator.tasks()[0]?.id);
  });

  it('reports a failed task with the reason from ListErrors, and cancels a running one', async () => {
    emulator.faults.set({ failNextTasks: 1 });
    const failing = await provider.createJob(spec(), 'record-fail');
    const failed = await waitForState(failing.name, 'FAILED');
    expect(failed.error?.message).toMatch(/diverged/);
    const running = await provider.createJob(spec(), 'record-cancel');
    await waitForState(running.name, 'RUNNING');
    await provider.cancelJob(running.name);
    expect((await waitForState(running.name, 'CANCELLED')).providerState).toBe('CANCELED');
  });

  it('learns once that the draft RPCs are unimplemented, and starts with Tune', async () => {
    const fresh = makeProvider();
    const before = emulator.stats()['TuningService/TuneDraft'] ?? 0;
    expect(await fresh.draftRpcsAvailable()).toBe(false);
    expect(await fresh.draftRpcsAvailable()).toBe(false);
    const tunes = emulator.stats()['TuningService/Tune'] ?? 0;
    await fresh.createJob(spec(), 'record-tune');
    expect(emulator.stats()['TuningService/TuneDraft']).toBe(before + 1);
    expect(emulator.stats()['TuningService/CreateDraft'] ?? 0).toBe(0);
    expect(emulator.stats()['TuningService/Tune']).toBe(tunes + 1);
    fresh.close();
  });

  it('uses CreateDraft + TuneDraft where the server implements them, and tunes a draft a crash left behind', async () => {
    const drafting = await startYandexEmulator({
      taskSeconds: 1,
      validateMs: 20,
      describeDelayMs: 100,
      draftRpcs: true,
    });
    const client = createYandexProvider({
      folderId,
      deploymentId: 'provider-test',
      endpoint: drafting.endpoint,
      plaintext: true,
      auth: { kind: 'api-key', apiKey: 'emulator-key' },
      readDataset: async (uri) => files[uri] ?? Buffer.alloc(0),
      pollIntervalMs: 20,
    });
    try {
      expect(await client.draftRpcsAvailable()).toBe(true);
      const job = await client.createJob(spec(), 'record-draft');
      expect(drafting.stats()['TuningService/CreateDraft']).toBe(1);
      expect(drafting.stats()['TuningService/Tune'] ?? 0).toBe(0);
      const task = drafting.tasks().find((item) => item.labels['tunedrop-job-id'] === 'record-draft');
      expect(job.name).toBe(`folders/${folderId}/tuningTasks/${task?.id}`);

      // TuneDraft refused after CreateDraft (quota; a crash there looks the same): the lookup never
      // takes the untuned draft for a started job, and the next attempt tunes that draft.
      drafting.faults.set({ rateLimitTunes: 1 });
      await expect(client.createJob(spec(), 'record-crash')).rejects.toMatchObject({
        status: 'RESOURCE_EXHAUSTED',
        transient: true,
      });
      expect(await client.findJobByRecordId('record-crash')).toBeUndefined();
      // Nor does the poller's list: a draft adopted as the record's job would never be started.
      expect((await client.listJobs({ labels: { 'tunedrop-job-id': 'record-crash' } })).jobs).toEqual([]);
      const stillDraft = drafting.tasks().filter((item) => item.labels['tunedrop-job-id'] === 'record-crash');
      expect(stillDraft).toHaveLength(1);
      const again = await client.createJob(spec(), 'record-crash');
      expect(
        drafting.tasks().filter((item) => item.labels['tunedrop-job-id'] === 'record-crash'),
      ).toHaveLength(1);
      expect(again.name).toContain(stillDraft[0]?.id);
      expect(drafting.stats()['TuningService/CreateDraft']).toBe(2);
    } finally {
      client.close();
      await drafting.close();
    }
  });
});
