/**
 * Yandex datasets across a job's life, on the Yandex emulator (official service definitions) and
 * the real Pub/Sub and Firestore emulators: uploaded and validated at ingest so Yandex's row
 * errors reach the report, reused by the start, and deleted once nothing needs them, so a
 * folder's dataset quota (10 at Yandex; smaller here) never fills up with finished jobs.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIngestHandler } from '../../functions/ingest-dataset/index.ts';
import { noLease } from '../../functions/poll-jobs/lease.ts';
import { pollJobs } from '../../functions/poll-jobs/poll.ts';
import { readBlob } from '../../functions/runtime.ts';
import { startYandexEmulator, type YandexEmulator } from '../../local/yandex-emulator/index.ts';
import { deploymentIdFor } from '../../shared/config/index.ts';
import { type CloudEvent, createPubSubPublisher } from '../../shared/events/index.ts';
import { createFirestoreJobStore, jobIdLabel } from '../../shared/jobs/index.ts';
import { createMemoryLogger } from '../../shared/logging/index.ts';
import {
  createAuthorizationSource,
  createProviderRegistry,
  createYandexChannel,
  createYandexClients,
  createYandexProvider,
} from '../../shared/providers/index.ts';
import { createLocalBlobStore, reportNameFor } from '../../shared/storage/index.ts';
import { collectEvents } from '../support/event-collector.ts';
import { putObject } from '../support/ingest-harness.ts';
import { uniqueName } from '../support/names.ts';
import { pollConfig } from '../unit/poll-jobs/fixtures.ts';
import {
  finalizedEvent,
  type IngestEnvironment,
  project,
  startIngestEnvironment,
} from './ingest-environment.ts';

const folderId = 'b1gdatasets';
let environment: IngestEnvironment;
const running: { close: () => void; stop: () => Promise<void> }[] = [];

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
  for (const { close, stop } of running) {
    close();
    await stop();
  }
  await environment?.stop();
});

const put = (name: string, content: string) => putObject(environment.root, name, content);

const startEmulator = (options: Parameters<typeof startYandexEmulator>[0] = {}) =>
  startYandexEmulator({ taskSeconds: 1, validateMs: 30, describeDelayMs: 200, ...options });

interface DeploymentOptions {
  /** A Yandex emulator (one folder) another deployment uses too; a fresh one by default. */
  emulator?: YandexEmulator;
  /** The poller's grace for datasets without a record; the deployed default unless given. */
  orphanGraceMs?: number;
}

/**
 * A deployment (ingest + poller + events, its own jobs collection) on a Yandex emulator: a fresh
 * one started with `options`, or the one given. Its identity is derived as deployed: from the
 * project, the database and its jobs collection.
 */
async function pipeline(
  options: Parameters<typeof startYandexEmulator>[0] = {},
  deployment: DeploymentOptions = {},
) {
  const emulator = deployment.emulator ?? (await startEmulator(options));
  const collection = uniqueName('jobs');
  const deploymentId = deploymentIdFor({
    project,
    firestoreDatabase: '(default)',
    jobsCollection: collection,
  });
  const blobs = createLocalBlobStore({ root: environment.root });
  const provider = createYandexProvider({
    folderId,
    deploymentId,
    endpoint: emulator.endpoint,
    plaintext: true,
    auth: { kind: 'api-key', apiKey: 'test' },
    readDataset: (uri) => readBlob(blobs, uri),
    pollIntervalMs: 20,
  });
  running.push({
    close: () => provider.close(),
    stop: deployment.emulator ? async () => {} : () => emulator.close(),
  });
  const registry = createProviderRegistry([environment.provider, provider]);
  const { topic, subscription, received } = await collectEvents(environment.pubsub);
  const logger = createMemoryLogger('yandex-datasets');
  const store = createFirestoreJobStore({ firestore: environment.firestore, collection });
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
    // A Tune whose answer was lost is looked up again after a second, not the deployed minute.
    start: { backoff: { baseMs: 1, maxMs: 1 }, lookupSettleMs: 1_000 },
  });
  const datasetFailuresLogged = new Set<string>();
  const poll = () =>
    pollJobs({
      datasetFailuresLogged,
      config: pollConfig({
        project,
        deploymentId,
        ...(deployment.orphanGraceMs !== undefined ? { datasetOrphanGraceMs: deployment.orphanGraceMs } : {}),
      }),
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
  return {
    emulator,
    deploymentId,
    provider,
    ingest,
    poll,
    store,
    logger,
    received,
    waitFor,
    datasetsOf,
    close: () => subscription.close(),
  };
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

describe('two deployments sharing one Yandex folder (staging and prod)', { timeout: 180_000 }, () => {
  it("never free, adopt or cancel each other's datasets and tasks", async () => {
    const emulator = await startEmulator();
    running.push({ close: () => {}, stop: () => emulator.close() });
    // No grace: a dataset without a record in the poller's own store is freed on sight, so any
    // dataset of the other deployment would be gone at the first poll.
    const staging = await pipeline({}, { emulator, orphanGraceMs: 0 });
    const prod = await pipeline({}, { emulator, orphanGraceMs: 0 });
    expect(staging.deploymentId).not.toBe(prod.deploymentId);
    const deploymentOf = (id: string) =>
      emulator.datasets().find((item) => item.id === id)?.labels['tunedrop-deployment'];

    // Staging: a DRAFT waiting for approval, its dataset uploaded and validated at ingest.
    const drafted = await staging.ingest(await drop(uniqueName('yx'), { approval: 'manual' }));
    expect(drafted?.outcome === 'job' && drafted.job.state).toBe('DRAFT');
    const draftId = drafted?.outcome === 'job' ? drafted.job.id : '';
    const [draftDataset] = staging.datasetsOf(draftId);
    expect(draftDataset && deploymentOf(draftDataset.id)).toBe(staging.deploymentId);

    // Prod runs a job to its end and sweeps on every run: it frees its own dataset only.
    const ran = await prod.ingest(await drop(uniqueName('yx')));
    const prodJobId = ran?.outcome === 'job' ? ran.job.id : '';
    await prod.waitFor((event) => event.type === 'tunedrop.v1.job.succeeded' && event.subject === prodJobId);
    for (let round = 0; prod.datasetsOf(prodJobId).length > 0 && round < 50; round++) await prod.poll();
    expect(prod.datasetsOf(prodJobId)).toEqual([]);
    expect(staging.datasetsOf(draftId).map((item) => item.id)).toEqual([draftDataset?.id]);

    // Both take in the same upload (one bucket object: one record id), and prod's Tune answer is
    // lost, so prod's retry looks the record's task up by label: it must adopt its own task, not
    // staging's (older, same record id) while cancelling its own as a duplicate.
    const event = await drop(uniqueName('yx'));
    const first = await staging.ingest(event);
    const sharedId = first?.outcome === 'job' ? first.job.id : '';
    await staging.waitFor((e) => e.type === 'tunedrop.v1.job.started' && e.subject === sharedId);
    emulator.faults.set({ loseNextTuneResponses: 1 });
    const second = await prod.ingest(event);
    expect(second?.outcome === 'job' && second.job.id).toBe(sharedId);
    expect((await prod.store.get(sharedId))?.provider.jobName).toBeUndefined();
    await prod.waitFor((e) => e.type === 'tunedrop.v1.job.succeeded' && e.subject === sharedId);
    await staging.waitFor((e) => e.type === 'tunedrop.v1.job.succeeded' && e.subject === sharedId);

    const tasks = emulator.tasks().filter((task) => task.labels[jobIdLabel] === sharedId);
    expect(tasks).toHaveLength(2);
    // Neither was cancelled as the other's duplicate.
    expect(tasks.map((task) => task.status)).toEqual(['COMPLETED', 'COMPLETED']);
    const taskOf = (deploymentId: string) =>
      tasks.find((task) => task.labels['tunedrop-deployment'] === deploymentId)?.id;
    const stagingRecord = await staging.store.get(sharedId);
    const prodRecord = await prod.store.get(sharedId);
    // Each tracks its own task and trained on its own dataset.
    expect(prodRecord?.provider.jobName).toBeDefined();
    expect(prodRecord?.provider.jobName).not.toBe(stagingRecord?.provider.jobName);
    expect(stagingRecord?.provider.datasets?.train).toBeDefined();
    expect(prodRecord?.provider.datasets?.train).not.toBe(stagingRecord?.provider.datasets?.train);
    expect(stagingRecord?.provider.jobName).toBe(
      `folders/${folderId}/tuningTasks/${taskOf(staging.deploymentId)}`,
    );
    expect(prodRecord?.provider.jobName).toBe(`folders/${folderId}/tuningTasks/${taskOf(prod.deploymentId)}`);
    expect((await prod.provider.findJobByRecordId(sharedId))?.name).toBe(prodRecord?.provider.jobName);
    expect((await staging.provider.findJobByRecordId(sharedId))?.name).toBe(stagingRecord?.provider.jobName);
    // Each frees only its own.
    for (let round = 0; staging.datasetsOf(sharedId).length > 0 && round < 50; round++) {
      await staging.poll();
      await prod.poll();
    }
    expect(staging.datasetsOf(sharedId)).toEqual([]);

    // After all those sweeps, staging's draft still has its dataset: approving it would start.
    expect(staging.datasetsOf(draftId).map((item) => item.id)).toEqual([draftDataset?.id]);
    await staging.close();
    await prod.close();
  });

  it('keeps a dataset an older tunedrop made (no deployment label) and says what to do, once', async () => {
    const emulator = await startEmulator();
    running.push({ close: () => {}, stop: () => emulator.close() });
    const p = await pipeline({}, { emulator, orphanGraceMs: 0 });
    // What a tunedrop before deployment labels uploaded: the record id and role only.
    const clients = createYandexClients(
      createYandexChannel({ endpoint: emulator.endpoint, plaintext: true }),
      createAuthorizationSource({ kind: 'api-key', apiKey: 'test' }),
    );
    const { datasetId } = await clients.datasets.create({
      folderId,
      name: 'tunedrop-legacy-train',
      description: '',
      metadata: '',
      taskType: 'TextToTextGeneration',
      uploadFormat: 'jsonlines',
      labels: { [jobIdLabel]: 'a'.repeat(32), 'tunedrop-dataset-role': 'train' },
      allowDataLog: false,
    });
    await p.poll();
    await p.poll();
    expect(emulator.datasets().map((item) => item.id)).toEqual([datasetId]);
    const warnings = p.logger.entries.filter((entry) =>
      String(entry.message).includes('without the tunedrop-deployment label'),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toContain(`tunedrop-deployment=${p.deploymentId}`);
    await p.close();
  });
});
