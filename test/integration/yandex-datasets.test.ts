/**
 * Yandex datasets across a job's life, on the Yandex emulator (official service definitions) and
 * the real Pub/Sub and Firestore emulators: uploaded and validated at ingest so Yandex's row
 * errors reach the report, reused by the start, and deleted once nothing needs them, so a
 * folder's dataset quota (10 at Yandex; smaller here) never fills up with finished jobs.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIngestHandler } from '../../functions/ingest-dataset/index.ts';
import { noLease } from '../../functions/poll-jobs/lease.ts';
import { pollJobs } from '../../functions/poll-jobs/poll.ts';
import { startYandexEmulator, type YandexEmulator } from '../../local/yandex-emulator/index.ts';
import { type CloudEvent, createPubSubPublisher } from '../../shared/events/index.ts';
import { createFirestoreJobStore, jobIdLabel } from '../../shared/jobs/index.ts';
import { createMemoryLogger } from '../../shared/logging/index.ts';
import { createProviderRegistry, createYandexProvider } from '../../shared/providers/index.ts';
import { createLocalBlobStore, reportNameFor } from '../../shared/storage/index.ts';
import { collectEvents } from '../support/event-collector.ts';
import { uniqueName } from '../support/names.ts';
import { pollConfig } from '../unit/poll-jobs/fixtures.ts';
import {
  bucket,
  finalizedEvent,
  type IngestEnvironment,
  project,
  startIngestEnvironment,
} from './ingest-environment.ts';

const folderId = 'b1gdatasets';
let environment: IngestEnvironment;
const running: { emulator: YandexEmulator; close: () => void }[] = [];

const row = (i: number) =>
  JSON.stringify({
    request: [{ role: 'user', text: `How do I reset password number ${i}?` }],
    response: `Open settings, choose "Reset", and follow step ${i}.`,
  });
const dataset = `${Array.from({ length: 20 }, (_, i) => row(i)).join('\n')}\n`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  environment = await startIngestEnvironment('tunedrop-yandex-datasets-');
});
afterAll(async () => {
  for (const { emulator, close } of running) {
    close();
    await emulator.close();
  }
  await environment?.stop();
});

async function put(name: string, content: string) {
  const file = join(environment.root, name);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, content);
}

/** A pipeline (ingest + poller + events) on a fresh Yandex emulator started with `options`. */
async function pipeline(options: Parameters<typeof startYandexEmulator>[0] = {}) {
  const emulator = await startYandexEmulator({
    taskSeconds: 1,
    validateMs: 30,
    describeDelayMs: 200,
    ...options,
  });
  const blobs = createLocalBlobStore({ root: environment.root });
  const provider = createYandexProvider({
    folderId,
    endpoint: emulator.endpoint,
    plaintext: true,
    auth: { kind: 'api-key', apiKey: 'test' },
    readDataset: async (uri) => {
      const match = /^gs:\/\/[^/]+\/([^#]+)(?:#(\d+))?$/.exec(uri);
      const chunks: Buffer[] = [];
      for await (const chunk of blobs.read(
        bucket,
        match?.[1] ?? '',
        match?.[2] ? { generation: match[2] } : undefined,
      ))
        chunks.push(Buffer.from(chunk as Uint8Array));
      return Buffer.concat(chunks);
    },
    pollIntervalMs: 20,
  });
  running.push({ emulator, close: () => provider.close() });
  const registry = createProviderRegistry([environment.provider, provider]);
  const { topic, subscription, received } = await collectEvents(environment.pubsub);
  const logger = createMemoryLogger('yandex-datasets');
  const store = createFirestoreJobStore({ firestore: environment.firestore, collection: uniqueName('jobs') });
  const publisher = createPubSubPublisher({ pubsub: environment.pubsub, topic, logger });
  const ingest = createIngestHandler({
    config: {
      project,
      defaults: { baseModel: 'gemini-2.5-flash', epochCount: 3 },
      approval: { mode: 'auto' },
      eventMaxAgeMs: 24 * 60 * 60_000,
      yandex: {
        folderId,
        endpoint: emulator.endpoint,
        plaintext: true,
        auth: { kind: 'api-key', apiKey: 'test' },
      },
    },
    store,
    provider: registry,
    publisher,
    blobs,
    logger,
    clock: () => new Date(),
    start: { backoff: { baseMs: 1, maxMs: 1 } },
  });
  const poll = () =>
    pollJobs({
      config: pollConfig({ project }),
      store,
      provider: registry,
      publisher,
      logger,
      clock: () => new Date(),
      lease: noLease,
      backoff: { baseMs: 1, maxMs: 1 },
    });
  async function waitFor(predicate: (event: CloudEvent) => boolean): Promise<CloudEvent> {
    for (let round = 0; ; round++) {
      const found = received.find(predicate);
      if (found) return found;
      if (round > 600) throw new Error('timed out waiting for an event');
      await poll();
      await sleep(100);
    }
  }
  const datasetsOf = (jobId: string) =>
    emulator.datasets().filter((item) => item.labels[jobIdLabel] === jobId);
  return { emulator, ingest, poll, store, received, waitFor, datasetsOf, close: () => subscription.close() };
}

async function drop(folder: string, manifest: Record<string, unknown> = {}) {
  await put(`incoming/${folder}/support.jsonl`, dataset);
  await put(
    `incoming/${folder}/tuning.json`,
    JSON.stringify({
      trainingDataset: 'support.jsonl',
      provider: 'yandex',
      baseModel: 'yandexgpt-lite',
      ...manifest,
    }),
  );
  return finalizedEvent(environment.root, `incoming/${folder}/tuning.json`);
}

describe('Yandex datasets across a job', { timeout: 120_000 }, () => {
  it("puts Yandex Validate's refused rows in the report with line numbers, rejects the upload and deletes the dataset", async () => {
    const p = await pipeline({ faults: { refuseNextValidations: 1 } });
    const folder = uniqueName('yx');
    const outcome = await p.ingest(await drop(folder));
    expect(outcome?.outcome).toBe('rejected');
    const jobId = outcome?.outcome === 'rejected' ? outcome.jobId : '';
    expect(await p.store.get(jobId)).toBeUndefined();
    const report = JSON.parse(
      await readFile(join(environment.root, reportNameFor(`incoming/${folder}/tuning.json`)), 'utf8'),
    );
    expect(report.status).toBe('rejected');
    expect(report.datasets.training.valid).toBe(false);
    expect(
      report.datasets.training.errors.map((error: { line: number; code: string }) => [
        error.line,
        error.code,
      ]),
    ).toEqual([
      [1, 'yandex_too_many_tokens'],
      [2, 'yandex_too_many_tokens'],
    ]);
    const rejected = await p.waitFor((event) => event.type === 'tunedrop.v1.dataset.rejected');
    expect((rejected.data as { errors: { line?: number }[] }).errors.map((error) => error.line)).toEqual([
      1, 2,
    ]);
    // Refused for good: nothing tuned, nothing left in the folder, no retry.
    expect(p.emulator.stats()['TuningService/Tune'] ?? 0).toBe(0);
    expect(p.datasetsOf(jobId)).toEqual([]);
    await p.close();
  });

  it('uploads once at ingest, starts on that dataset, and deletes it when the job is over', async () => {
    const p = await pipeline();
    const outcome = await p.ingest(await drop(uniqueName('yx')));
    expect(outcome?.outcome).toBe('job');
    const jobId = outcome?.outcome === 'job' ? outcome.job.id : '';
    const record = await p.store.get(jobId);
    const held = p.datasetsOf(jobId);
    expect(held).toHaveLength(1);
    expect(record?.provider.datasets).toEqual({ train: held[0]?.id });
    expect(record?.provider.jobName).toMatch(/tuningTasks\/ftn/);
    // The start reused the dataset validated at ingest: one Create, one upload, one Validate.
    const stats = p.emulator.stats();
    expect([
      stats['DatasetService/Create'],
      stats['DatasetService/GetUploadDraftUrl'],
      stats['DatasetService/Validate'],
    ]).toEqual([1, 1, 1]);
    await p.waitFor((event) => event.type === 'tunedrop.v1.job.succeeded');
    // The run that saw the job finish frees its dataset after publishing the event.
    for (let round = 0; p.datasetsOf(jobId).length > 0 && round < 50; round++) {
      await p.poll();
      await sleep(50);
    }
    expect(p.datasetsOf(jobId)).toEqual([]);
    await p.close();
  });

  it("frees a cancelled draft's dataset", async () => {
    const p = await pipeline();
    const outcome = await p.ingest(await drop(uniqueName('yx'), { approval: 'manual' }));
    const jobId = outcome?.outcome === 'job' ? outcome.job.id : '';
    expect(outcome?.outcome === 'job' && outcome.job.state).toBe('DRAFT');
    // Uploaded and validated at ingest, nothing tuned until approval.
    expect(p.datasetsOf(jobId)).toHaveLength(1);
    expect(p.emulator.stats()['TuningService/Tune'] ?? 0).toBe(0);
    await p.store.update(jobId, (job) => ({ ...job, state: 'CANCELLED' }));
    await p.poll();
    expect(p.datasetsOf(jobId)).toEqual([]);
    await p.close();
  });

  it('runs more jobs one after another than the folder holds datasets (none is leaked)', async () => {
    const p = await pipeline({ datasetQuota: 2 });
    for (let job = 0; job < 4; job++) {
      const outcome = await p.ingest(await drop(uniqueName('yx')));
      expect(outcome?.outcome).toBe('job');
      const jobId = outcome?.outcome === 'job' ? outcome.job.id : '';
      await p.waitFor((event) => event.type === 'tunedrop.v1.job.succeeded' && event.subject === jobId);
      await p.poll();
    }
    expect(p.emulator.datasets()).toEqual([]);
    expect(p.emulator.tasks().filter((task) => task.status === 'COMPLETED')).toHaveLength(4);
    await p.close();
  });
});
