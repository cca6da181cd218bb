import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIngestHandler } from '../../functions/ingest-dataset/index.ts';
import { noLease } from '../../functions/poll-jobs/lease.ts';
import { pollJobs } from '../../functions/poll-jobs/poll.ts';
import { readBlob } from '../../functions/runtime.ts';
import { startYandexEmulator, type YandexEmulator } from '../../local/yandex-emulator/index.ts';
import { type CloudEvent, createPubSubPublisher } from '../../shared/events/index.ts';
import { createFirestoreJobStore, jobIdLabel } from '../../shared/jobs/index.ts';
import { createMemoryLogger } from '../../shared/logging/index.ts';
import {
  createProviderRegistry,
  createYandexProvider,
  type ProviderRegistry,
} from '../../shared/providers/index.ts';
import { createLocalBlobStore } from '../../shared/storage/index.ts';
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

const folderId = 'b1gpipeline';
let environment: IngestEnvironment;
let yandex: YandexEmulator;
let registry: ProviderRegistry;
let closeYandex: () => void;

const row = (i: number) =>
  JSON.stringify({
    request: [
      { role: 'system', text: 'Answer support questions briefly.' },
      { role: 'user', text: `How do I reset password number ${i}?` },
    ],
    response: `Open settings, choose "Reset", and follow step ${i}.`,
  });
const dataset = `${Array.from({ length: 20 }, (_, i) => row(i)).join('\n')}\n`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  environment = await startIngestEnvironment('tunedrop-yandex-');
  yandex = await startYandexEmulator({ taskSeconds: 2, validateMs: 50, describeDelayMs: 300 });
  const provider = createYandexProvider({
    folderId,
    deploymentId: 'pipeline-test',
    endpoint: yandex.endpoint,
    plaintext: true,
    auth: { kind: 'api-key', apiKey: 'test' },
    readDataset: (uri) => readBlob(createLocalBlobStore({ root: environment.root }), uri),
    pollIntervalMs: 20,
  });
  closeYandex = () => provider.close();
  registry = createProviderRegistry([environment.provider, provider]);
});
afterAll(async () => {
  closeYandex?.();
  await yandex?.close();
  await environment?.stop();
});

const put = (name: string, content: string) => putObject(environment.root, name, content);

async function pipeline() {
  const { topic, subscription, received } = await collectEvents(environment.pubsub);
  const logger = createMemoryLogger('yandex-pipeline');
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
        endpoint: yandex.endpoint,
        plaintext: true,
        auth: { kind: 'api-key', apiKey: 'test' },
      },
    },
    store,
    provider: registry,
    publisher,
    blobs: createLocalBlobStore({ root: environment.root }),
    logger,
    clock: () => new Date(),
    start: { backoff: { baseMs: 1, maxMs: 1 } },
  });
  const poll = () =>
    pollJobs({
      config: pollConfig({ project, deploymentId: 'pipeline-test' }),
      store,
      provider: registry,
      publisher,
      logger,
      clock: () => new Date(),
      lease: noLease,
      backoff: { baseMs: 1, maxMs: 1 },
    });
  async function waitFor(type: string): Promise<CloudEvent> {
    for (;;) {
      const found = received.find((event) => event.type === type);
      if (found) return found;
      await poll();
      await sleep(100);
    }
  }
  return { ingest, poll, store, received, waitFor, subscription };
}

async function dropManifest(folder: string, manifest: Record<string, unknown>) {
  await put(`incoming/${folder}/support.jsonl`, dataset);
  await put(
    `incoming/${folder}/tuning.json`,
    JSON.stringify({ trainingDataset: 'support.jsonl', ...manifest }),
  );
  return finalizedEvent(environment.root, `incoming/${folder}/tuning.json`);
}

const tasksFor = (jobId: string) => yandex.tasks().filter((task) => task.labels[jobIdLabel] === jobId);

describe('a Yandex AI Studio job through the pipeline', () => {
  it('runs once for a duplicated upload event and ends in job.succeeded with the target model URI', async () => {
    const p = await pipeline();
    const event = await dropManifest(uniqueName('yx'), {
      provider: 'yandex',
      baseModel: 'yandexgpt-lite',
      yandex: { lr: 0.0002, nSamples: 80, lora: { rank: 8, alpha: 16 } },
    });
    const [first, second] = await Promise.all([p.ingest(event), p.ingest(event)]);
    expect(first?.outcome).toBe('job');
    expect(second?.outcome).toBe('job');
    const jobId = first?.outcome === 'job' ? first.job.id : '';
    const record = await p.store.get(jobId);
    expect(record).toMatchObject({
      provider: { name: 'yandex' },
      spec: { provider: 'yandex', baseModel: 'yandexgpt-lite' },
    });
    expect(record?.provider.jobName).toMatch(/^folders\/b1gpipeline\/tuningTasks\/ftn/);
    expect(record?.spec.epochCount).toBeUndefined();

    const succeeded = await p.waitFor('tunedrop.v1.job.succeeded');
    const data = succeeded.data as Record<string, unknown>;
    expect(data).toMatchObject({
      provider: 'yandex',
      result: { tunedModel: expect.stringMatching(/^gpt:\/\/b1gpipeline\/yandexgpt-lite\/latest@tamr/) },
      progress: { totalSteps: 10, currentStep: 10 },
    });
    expect(tasksFor(jobId)).toHaveLength(1);
    expect(p.received.filter((e) => e.type === 'tunedrop.v1.job.started')).toHaveLength(1);
    await p.subscription.close();
  });

  it('adopts the task of a Tune whose answer was lost instead of tuning again', async () => {
    const p = await pipeline();
    yandex.faults.set({ loseNextTuneResponses: 1 });
    const outcome = await p.ingest(
      await dropManifest(uniqueName('yx'), { provider: 'yandex', baseModel: 'yandexgpt-lite' }),
    );
    const jobId = outcome?.outcome === 'job' ? outcome.job.id : '';
    const queued = await p.store.get(jobId);
    expect(queued).toMatchObject({ state: 'QUEUED', provider: { createIntentTime: expect.any(String) } });
    expect(queued?.provider.jobName).toBeUndefined();
    expect(tasksFor(jobId)).toHaveLength(1);
    // The next attempt (the poller) waits out Yandex's visibility delay, then finds the task by label.
    await sleep(400);
    await p.waitFor('tunedrop.v1.job.succeeded');
    expect(tasksFor(jobId)).toHaveLength(1);
    expect((await p.store.get(jobId))?.provider.jobName).toContain(tasksFor(jobId)[0]?.id);
    await p.subscription.close();
  });

  it('rejects a Gemini dataset given to a Yandex job before anything reaches Yandex', async () => {
    const p = await pipeline();
    const folder = uniqueName('yx');
    const gemini = JSON.stringify({
      contents: [
        { role: 'user', parts: [{ text: 'q' }] },
        { role: 'model', parts: [{ text: 'a' }] },
      ],
    });
    await put(`incoming/${folder}/support.jsonl`, `${Array.from({ length: 12 }, () => gemini).join('\n')}\n`);
    await put(
      `incoming/${folder}/tuning.json`,
      JSON.stringify({ provider: 'yandex', baseModel: 'yandexgpt-lite', trainingDataset: 'support.jsonl' }),
    );
    const before = yandex.stats()['DatasetService/Create'] ?? 0;
    const outcome = await p.ingest(await finalizedEvent(environment.root, `incoming/${folder}/tuning.json`));
    expect(outcome?.outcome).toBe('rejected');
    expect(yandex.stats()['DatasetService/Create'] ?? 0).toBe(before);
    await p.subscription.close();
  });
});
