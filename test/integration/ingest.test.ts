/**
 * ingest-dataset end to end on the real Firestore and Pub/Sub emulators and the Vertex AI
 * emulator, with a local folder standing in for the bucket. Each test uses its own collection,
 * topic and object names, so nothing leaks between tests.
 */

import { statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Firestore } from '@google-cloud/firestore';
import type { CloudEvent as FrameworkEvent } from '@google-cloud/functions-framework';
import * as functionsFramework from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import type { PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createIngestHandler } from '../../functions/ingest-dataset/index.ts';
import { finalizedEvent as watcherEvent } from '../../local/bucket-watcher.ts';
import type { VertexEmulator } from '../../local/vertex-emulator/index.ts';
import type { ApprovalPolicy } from '../../shared/config/index.ts';
import { jobIdFor, jobIdLabel, type RejectionStore, startJob } from '../../shared/jobs/index.ts';
import { builtinCatalog, type Catalog, mergeCatalog } from '../../shared/models/index.ts';
import { ProviderError, type TuningProvider } from '../../shared/providers/types.ts';
import { BlobAccessError, type BlobStore, createLocalBlobStore } from '../../shared/storage/index.ts';
import {
  asJob,
  createIngestHarness,
  emulatorJobsFor,
  type IngestHarness,
  putObject,
  readIngestReport,
  receiveEvent as receive,
} from '../support/ingest-harness.ts';
import { uniqueName } from '../support/names.ts';
import { jobFixture } from '../unit/jobs/job-fixture.ts';
import {
  bucket,
  example,
  finalizedEvent,
  type IngestEnvironment,
  project,
  startIngestEnvironment,
} from './ingest-environment.ts';

let root: string;
let firestore: Firestore;
let pubsub: PubSub;
let emulator: VertexEmulator;
let provider: TuningProvider;
let environment: IngestEnvironment | undefined;

beforeAll(async () => {
  environment = await startIngestEnvironment('tunedrop-ingest-');
  ({ root, firestore, pubsub, emulator, provider } = environment);
});
afterAll(async () => {
  await environment?.stop();
});

// Enough text for an estimate of at least a cent, so approval by budget has something to weigh.
/** A dataset in Yandex AI Studio's format (request/response rows). */
const yandexDataset = `${Array.from({ length: 20 }, (_, i) =>
  JSON.stringify({
    request: [{ role: 'user', text: `How do I reset password number ${i}?` }],
    response: `Open settings and follow step ${i}.`,
  }),
).join('\n')}\n`;
const goodDataset = `${Array.from({ length: 200 }, (_, i) =>
  example(`What is ${i} + 1? Explain the steps.`, `${i + 1}. ${'Add one to the number. '.repeat(12)}`),
).join('\n')}\n`;
const badDataset = `${example('hi', 'hello')}\n{"contents": [{"role": "user", "parts": []}]}\nnot json\n`;

/**
 * The built-in catalog records no price it could not source, so estimates and budgets are tested
 * with an operator's override that gives one, as a deployment with a contract price would. The
 * 2.5 models stand in for current ones here: the Vertex AI emulator of this branch tunes them.
 */
const operatorPrice = {
  usdPerMillionTrainingTokens: 2,
  source: 'test operator contract',
  asOf: '2026-11-01',
};
const pricedCatalog = mergeCatalog(
  builtinCatalog(),
  {
    factsAsOf: '2026-12-01',
    models: ['gemini-2.5-flash', 'gemini-2.5-flash-lite'].map((id) => ({ id, price: operatorPrice })),
  },
  'a test override',
);

type Harness = IngestHarness & { rejections: RejectionStore };

async function harness(
  options: {
    approval?: ApprovalPolicy;
    provider?: TuningProvider;
    blobs?: BlobStore;
    maxConcurrentJobs?: number;
    catalog?: Catalog;
    autoApproveMaxUsd?: number | null;
  } = {},
): Promise<Harness> {
  const h = await createIngestHarness(
    { firestore, pubsub },
    {
      prefix: 't',
      provider: options.provider ?? provider,
      blobs: options.blobs ?? createLocalBlobStore({ root }),
      catalog: options.catalog ?? pricedCatalog,
      rejections: true,
      config: {
        approval: options.approval ?? { mode: 'auto' },
        ...(options.maxConcurrentJobs === undefined ? {} : { maxConcurrentJobs: options.maxConcurrentJobs }),
        ...(options.autoApproveMaxUsd === undefined ? {} : { autoApproveMaxUsd: options.autoApproveMaxUsd }),
      },
    },
  );
  if (!h.rejections) throw new Error('the harness was asked for a rejection store');
  return { ...h, rejections: h.rejections };
}

/** Puts a file in the bucket folder, with custom metadata in its sidecar when given. */
const put = (name: string, content: string, metadata?: Record<string, string>) =>
  putObject(root, name, content, metadata);

/** The finalized CloudEvent Eventarc would deliver for the file as it is now. */
const finalized = (name: string, overrides: Record<string, unknown> = {}) =>
  finalizedEvent(root, name, overrides);

const jobIdOf = async (name: string) => {
  const info = await createLocalBlobStore({ root }).stat(bucket, name);
  return jobIdFor({ bucket, object: name, generation: info!.generation });
};

const vertexJobsFor = (jobId: string) => emulatorJobsFor(emulator, jobId);
const readReport = (name: string) => readIngestReport(root, name);

beforeEach(() => {
  emulator.faults.reset();
});

describe('ingest-dataset', () => {
  it('leaves a new upload QUEUED, due now, while the provider is at TUNEDROP_MAX_CONCURRENT_JOBS', async () => {
    const h = await harness({ maxConcurrentJobs: 1 });
    await h.store.create(jobFixture('RUNNING', { id: `${h.prefix}-running` }));
    const name = `incoming/${h.prefix}-waits.jsonl`;
    await put(name, goodDataset);

    const job = asJob(await h.handle(await finalized(name)));

    expect(job.state).toBe('QUEUED');
    expect(job.nextAttemptTime).toBeDefined();
    expect(job.provider.createIntentTime).toBeUndefined();
    expect(await vertexJobsFor(job.id)).toEqual([]);
    await h.subscription.close();
  });

  it('turns a single-file drop into one Vertex AI job labelled with the record id, and announces it', async () => {
    const h = await harness();
    const name = `incoming/${h.prefix}-support.jsonl`;
    await put(name, goodDataset);
    const started = receive(h.subscription, 'tunedrop.v1.job.started');

    const job = asJob(await h.handle(await finalized(name)));

    expect(job.id).toBe(await jobIdOf(name));
    expect(job.state).toBe('PENDING');
    // Vertex AI is given tunedrop's pinned copy of the validated generation, not the upload.
    const pinned = `gs://${bucket}/validated/${job.id}/training/${h.prefix}-support.jsonl`;
    expect(job.spec).toMatchObject({
      baseModel: 'gemini-2.5-flash',
      trainingDatasetUri: pinned,
      tunedModelDisplayName: `${h.prefix}-support`,
    });
    expect(job.validation.pinned?.training).toMatchObject({
      uri: pinned,
      sourceUri: `gs://${bucket}/${name}`,
      sourceGeneration: job.source.generation,
    });
    expect(job.validation.examples).toBe(200);
    expect(job.estimate?.costUsd).toBeGreaterThan(0);
    expect(job.estimate).toMatchObject({ priceDate: '2026-11-01', priceSource: 'test operator contract' });
    expect(job.validation.priceBasis).toBe(
      "USD 2 per 1M training tokens: gemini-2.5-flash's catalog price as of 2026-11-01 (test operator contract)",
    );
    const vertexJobs = await vertexJobsFor(job.id);
    expect(vertexJobs.map((vertexJob) => vertexJob.name)).toEqual([job.provider.jobName]);
    const event = await started;
    expect(event).toMatchObject({
      id: `${job.id}.v1.job.started`,
      subject: job.id,
      data: { state: 'PENDING' },
    });
    expect(event.attributes).toMatchObject({
      type: 'tunedrop.v1.job.started',
      jobId: job.id,
      state: 'PENDING',
    });
    const report = await readReport(name);
    expect(report).toMatchObject({ status: 'accepted', kind: 'dataset', jobId: job.id, problems: [] });
    expect(report.datasets.training?.valid).toBe(true);
    await h.subscription.close();
  });

  it('starts a job from a tuning.json manifest, with datasets relative to it', async () => {
    const h = await harness();
    const folder = `incoming/${h.prefix}`;
    await put(`${folder}/train.jsonl`, goodDataset);
    await put(`${folder}/val.jsonl`, goodDataset);
    await put(
      `${folder}/tuning.json`,
      JSON.stringify({
        baseModel: 'gemini-2.5-flash-lite',
        trainingDataset: 'train.jsonl',
        validationDataset: 'val.jsonl',
        epochCount: 2,
        adapterSize: 'FOUR',
        tunedModelDisplayName: 'support bot',
        labels: { team: 'support' },
      }),
    );

    const job = asJob(await h.handle(await finalized(`${folder}/tuning.json`)));

    expect(job.state).toBe('PENDING');
    expect(job.source.manifest).toBe(true);
    expect(job.spec).toMatchObject({
      baseModel: 'gemini-2.5-flash-lite',
      trainingDatasetUri: `gs://${bucket}/validated/${job.id}/training/train.jsonl`,
      validationDatasetUri: `gs://${bucket}/validated/${job.id}/validation/val.jsonl`,
      epochCount: 2,
      labels: { team: 'support' },
    });
    expect(job.validation.validationExamples).toBe(200);
    const [vertexJob] = await vertexJobsFor(job.id);
    expect(vertexJob).toMatchObject({
      supervisedTuningSpec: {
        trainingDatasetUri: job.spec.trainingDatasetUri,
        validationDatasetUri: job.spec.validationDatasetUri,
      },
    });
    expect(vertexJob).toMatchObject({
      tunedModelDisplayName: 'support bot',
      labels: { team: 'support', [jobIdLabel]: job.id },
      supervisedTuningSpec: { hyperParameters: { epochCount: '2', adapterSize: 'ADAPTER_SIZE_FOUR' } },
    });
    const report = await readReport(`${folder}/tuning.json`);
    expect(report.datasets.validation?.role).toBe('validation');

    // The dataset's own upload event belongs to the manifest: no second job.
    const ignored = await h.handle(await finalized(`${folder}/train.jsonl`));
    expect(ignored).toEqual({ outcome: 'ignored', reason: `part of manifest ${folder}/tuning.json` });
    expect(await vertexJobsFor(await jobIdOf(`${folder}/train.jsonl`))).toEqual([]);
    await h.subscription.close();
  });

  it('lets a manifest uploaded before its datasets wait for them', async () => {
    const h = await harness();
    const folder = `incoming/${h.prefix}`;
    await put(`${folder}/tuning.json`, JSON.stringify({ trainingDataset: 'train.jsonl' }));
    const waiting = await h.handle(await finalized(`${folder}/tuning.json`));
    expect(waiting).toMatchObject({ outcome: 'waiting', missing: [`gs://${bucket}/${folder}/train.jsonl`] });
    expect((await readReport(`${folder}/tuning.json`)).status).toBe('waiting');

    await put(`${folder}/train.jsonl`, goodDataset);
    const job = asJob(await h.handle(await finalized(`${folder}/train.jsonl`)));
    expect(job.id).toBe(await jobIdOf(`${folder}/tuning.json`));
    expect(job.state).toBe('PENDING');
    await h.subscription.close();
  });

  it('completes a waiting manifest whose model only the operator catalog override knows', async () => {
    // Parsed without the effective catalog, this manifest's yandex settings would be refused
    // (a "Vertex" model), and its dataset's upload would never re-trigger it.
    const lite = pricedCatalog.models.find((model) => model.id === 'yandexgpt-lite');
    const catalog = mergeCatalog(
      pricedCatalog,
      { models: [{ ...lite, id: 'yandexgpt-custom', aliases: [], displayName: 'Custom' }] },
      'the test override',
    );
    const h = await createIngestHarness(
      { firestore, pubsub },
      {
        prefix: 't',
        provider,
        blobs: createLocalBlobStore({ root }),
        catalog,
        config: {
          // Held for approval: nothing is started (this deployment's provider is the Vertex emulator).
          approval: { mode: 'manual' },
          yandex: {
            folderId: 'b1gtest',
            endpoint: 'localhost:1',
            plaintext: true,
            auth: { kind: 'api-key', apiKey: 'unused' },
          },
        },
      },
    );
    const folder = `incoming/${h.prefix}-custom`;
    const manifest = {
      trainingDataset: 'train.jsonl',
      baseModel: 'yandexgpt-custom',
      yandex: { lr: 0.0001 },
    };
    await put(`${folder}/tuning.json`, JSON.stringify(manifest));
    expect(await h.handle(await finalized(`${folder}/tuning.json`))).toMatchObject({ outcome: 'waiting' });

    await put(`${folder}/train.jsonl`, yandexDataset);
    const outcome = await h.handle(await finalized(`${folder}/train.jsonl`));
    expect(outcome).not.toMatchObject({ outcome: 'ignored' });
    expect(h.logs.entries.map((entry) => entry.message)).toContain(
      `${folder}/train.jsonl completes manifest ${folder}/tuning.json; processing the manifest`,
    );
    await h.subscription.close();
  });

  it('turns the upload order of tunedrop submit (manifest, training, validation) into one job, once the last dataset is in', async () => {
    const h = await harness();
    const folder = `incoming/${h.prefix}`;
    const manifest = `${folder}/tuning.json`;
    emulator.resetStats();
    await put(manifest, JSON.stringify({ trainingDataset: 'train.jsonl', validationDataset: 'val.jsonl' }));
    const manifestEvent = await finalized(manifest);
    expect(await h.handle(manifestEvent)).toMatchObject({
      outcome: 'waiting',
      missing: [`gs://${bucket}/${folder}/train.jsonl`, `gs://${bucket}/${folder}/val.jsonl`],
    });

    await put(`${folder}/train.jsonl`, goodDataset);
    const trainingEvent = await finalized(`${folder}/train.jsonl`);
    expect(await h.handle(trainingEvent)).toMatchObject({
      outcome: 'waiting',
      missing: [`gs://${bucket}/${folder}/val.jsonl`],
    });
    expect((await h.store.list()).jobs).toEqual([]);
    expect(emulator.stats().create).toBe(0);

    await put(`${folder}/val.jsonl`, goodDataset);
    const validationEvent = await finalized(`${folder}/val.jsonl`);
    const job = asJob(await h.handle(validationEvent));
    expect(job.id).toBe(await jobIdOf(manifest));
    expect(job.state).toBe('PENDING');
    expect(job.validation.pinned).toMatchObject({
      training: { sourceUri: `gs://${bucket}/${folder}/train.jsonl` },
      validation: { sourceUri: `gs://${bucket}/${folder}/val.jsonl` },
    });
    expect(job.spec).toMatchObject({
      trainingDatasetUri: `gs://${bucket}/validated/${job.id}/training/train.jsonl`,
      validationDatasetUri: `gs://${bucket}/validated/${job.id}/validation/val.jsonl`,
    });
    expect((await readReport(manifest)).status).toBe('accepted');

    // Eventarc redelivers every event: still one job.
    for (const event of [manifestEvent, trainingEvent, validationEvent])
      await h.handle(structuredClone(event));
    expect((await h.store.list()).jobs.map((record) => record.id)).toEqual([job.id]);
    expect((await vertexJobsFor(job.id)).map((vertexJob) => vertexJob.name)).toEqual([job.provider.jobName]);
    expect(emulator.stats().create).toBe(1);
    await h.subscription.close();
  });

  it('rejects an invalid dataset: report written, dataset.rejected published, no job', async () => {
    const h = await harness();
    const name = `incoming/${h.prefix}-bad.jsonl`;
    await put(name, badDataset);
    const rejected = receive(h.subscription, 'tunedrop.v1.dataset.rejected');

    const outcome = await h.handle(await finalized(name));

    const jobId = await jobIdOf(name);
    expect(outcome).toMatchObject({
      outcome: 'rejected',
      jobId,
      reportUri: `gs://${bucket}/reports/${name}.report.json`,
    });
    const report = await readReport(name);
    expect(report.status).toBe('rejected');
    const errorLines = report.datasets.training?.errors.map((error) => error.line) ?? [];
    expect(new Set(errorLines)).toEqual(new Set([2, 3]));
    const event = await rejected;
    expect(event).toMatchObject({
      id: `${jobId}.v1.dataset.rejected`,
      subject: jobId,
      data: { errorCount: errorLines.length, reportUri: `gs://${bucket}/reports/${name}.report.json` },
    });
    expect((event.data as { errors: { line: number }[] }).errors.map((error) => error.line)).toEqual(
      errorLines,
    );
    expect(await h.store.get(jobId)).toBeUndefined();
    expect(await vertexJobsFor(jobId)).toEqual([]);
    // Findable all the same: a REJECTED record under the same id, with its source and report.
    const rejection = await h.rejections.get(jobId);
    expect(rejection).toMatchObject({
      id: jobId,
      state: 'REJECTED',
      source: { bucket, object: name, manifest: false },
      validation: { reportUri: `gs://${bucket}/reports/${name}.report.json` },
      rejection: { errorCount: errorLines.length },
      event: { id: event.id, type: 'tunedrop.v1.dataset.rejected' },
    });
    expect(rejection?.error.message).toMatch(
      new RegExp(`^${errorLines.length} error\\(s\\); first: line 2, /contents`),
    );
    // A redelivery keeps the one record.
    await h.handle(await finalized(name));
    expect((await h.rejections.list()).rejections.map((record) => record.id)).toEqual([jobId]);
    await h.subscription.close();
  });

  it('rejects a retired model before any spend, with the same message in the report and dataset.rejected', async () => {
    const h = await harness();
    const name = `incoming/${h.prefix}-retired.jsonl`;
    await put(name, goodDataset, { 'base-model': 'gemini-2.0-flash-001' });
    const rejected = receive(h.subscription, 'tunedrop.v1.dataset.rejected');

    const outcome = await h.handle(await finalized(name));

    expect(outcome).toMatchObject({ outcome: 'rejected' });
    const message =
      'gemini-2.0-flash-001 was retired on 2026-06-01; use gemini-3.5-flash-lite or gemini-3.5-flash';
    const report = await readReport(name);
    expect(report.problems).toEqual([`/baseModel: ${message}`]);
    const event = await rejected;
    expect((event.data as { errors: { field?: string; message: string }[] }).errors).toEqual([
      expect.objectContaining({ field: '/baseModel', message }),
    ]);
    const jobId = await jobIdOf(name);
    expect(await h.store.get(jobId)).toBeUndefined();
    expect(await vertexJobsFor(jobId)).toEqual([]);
    await h.subscription.close();
  });

  it('starts a job whose few over-limit examples Vertex AI will drop, and rejects it under strict metadata', async () => {
    // A token limit small enough for one long example to be over it once counted.
    const catalog = mergeCatalog(
      pricedCatalog,
      { models: [{ id: 'gemini-2.5-flash', limits: { maxTokensPerExample: 200 } }] },
      'a small limit',
    );
    const h = await harness({ catalog });
    const long = example('Summarise this. '.repeat(200), 'A summary.');
    const data = `${goodDataset}${long}\n`;
    const lenient = `incoming/${h.prefix}-drops.jsonl`;
    await put(lenient, data);
    const job = asJob(await h.handle(await finalized(lenient)));
    expect(job.validation.droppableExamples).toBe(1);
    const report = await readReport(lenient);
    expect(report.datasets.training?.warnings).toContainEqual(
      expect.objectContaining({ line: 201, code: 'example_dropped' }),
    );

    const strict = `incoming/${h.prefix}-strict.jsonl`;
    await put(strict, data, { strict: 'true' });
    const rejected = receive(h.subscription, 'tunedrop.v1.dataset.rejected');
    expect(await h.handle(await finalized(strict))).toMatchObject({ outcome: 'rejected' });
    const event = await rejected;
    expect((event.data as { errors: { line?: number; code: string; message: string }[] }).errors).toEqual([
      expect.objectContaining({
        line: 201,
        code: 'example_dropped',
        message: expect.stringMatching(/^Vertex AI will drop this example: (at least )?[\d,]+ tokens > 200/),
      }),
    ]);
    await h.subscription.close();
  }, 60_000);

  it('sends an unknown model to Vertex AI with a warning in the report', async () => {
    const h = await harness();
    const name = `incoming/${h.prefix}-unknown.jsonl`;
    await put(name, goodDataset, { 'base-model': 'gemini-9-flash' });
    await h.handle(await finalized(name));
    const report = await readReport(name);
    expect(report.notes.join('\n')).toMatch(
      /\/baseModel: unknown model "gemini-9-flash": checked with conservative limits; the catalog's facts are as of 2026-12-01/,
    );
    expect(report.datasets.training?.valid).toBe(true);
    await h.subscription.close();
  });

  it('rejects a manifest whose dataset in another bucket is gone (404): reported, dataset.rejected, no retry', async () => {
    // Cloud Storage can list an object that is gone by the time it is read; the local store says
    // 404 for the vanished file like Cloud Storage does.
    const local = createLocalBlobStore({ root });
    const h = await harness({
      blobs: {
        ...local,
        stat: async (bucketName, name) => {
          const info = await local.stat(bucketName, name);
          if (bucketName === 'other-bucket') await rm(join(root, name), { force: true });
          return info;
        },
      },
    });
    const folder = `incoming/${h.prefix}`;
    const elsewhere = `gs://other-bucket/${h.prefix}-shared/val.jsonl`;
    await put(`${h.prefix}-shared/val.jsonl`, goodDataset);
    await put(`${folder}/train.jsonl`, goodDataset);
    await put(
      `${folder}/tuning.json`,
      JSON.stringify({ trainingDataset: 'train.jsonl', validationDataset: elsewhere }),
    );
    const rejected = receive(h.subscription, 'tunedrop.v1.dataset.rejected');

    const outcome = await h.handle(await finalized(`${folder}/tuning.json`));

    const jobId = await jobIdOf(`${folder}/tuning.json`);
    expect(outcome).toMatchObject({ outcome: 'rejected', jobId, errorCount: 1 });
    expect((await readReport(`${folder}/tuning.json`)).problems).toEqual([
      `/validationDataset: ${elsewhere} was not found (404): check the bucket and object name, and that the object still exists`,
    ]);
    const event = await rejected;
    expect((event.data as { errors: { field?: string }[] }).errors.map((error) => error.field)).toEqual([
      '/validationDataset',
    ]);
    expect(await h.store.get(jobId)).toBeUndefined();
    expect(await vertexJobsFor(jobId)).toEqual([]);
    await h.subscription.close();
  });

  it('goes on as a duplicate delivery when the provider check fails after the other delivery made the job: no rejection', async () => {
    let h: Harness | undefined;
    let duplicate: Promise<unknown> | undefined;
    let ownEvent: Awaited<ReturnType<typeof finalized>> | undefined;
    // The provider's own check (Yandex: upload + Validate) loses a race with a duplicate delivery
    // of the same event, which prepared the datasets and made the job meanwhile.
    const racing: TuningProvider = {
      ...provider,
      name: provider.name,
      async prepareDatasets() {
        if (duplicate) return undefined;
        duplicate = h!.handle(ownEvent!);
        await duplicate;
        throw new ProviderError(
          'DatasetService: dataset is no longer a draft',
          400,
          'FAILED_PRECONDITION',
          false,
        );
      },
    };
    h = await harness({ provider: racing });
    const name = `incoming/${h.prefix}-race.jsonl`;
    await put(name, goodDataset);
    ownEvent = await finalized(name);
    const outcome = await h.handle(ownEvent);
    const jobId = await jobIdOf(name);
    expect(await duplicate).toMatchObject({ outcome: 'job', created: true });
    expect(outcome).toMatchObject({ outcome: 'job', created: false });
    expect((await readReport(name)).status).toBe('accepted');
    expect(await h.rejections.get(jobId)).toBeUndefined();
    expect(await vertexJobsFor(jobId)).toHaveLength(1);
    await h.subscription.close();
  });

  it('rejects a manifest whose dataset tunedrop may not read (403) with what to grant; keeps a 503 transient', async () => {
    const local = createLocalBlobStore({ root });
    const refusing = (status: number) => ({
      ...local,
      stat: async (bucketName: string, name: string) => {
        if (bucketName !== 'other-bucket') return local.stat(bucketName, name);
        throw new BlobAccessError(`gs://${bucketName}/${name}: refused`, status, bucketName, name);
      },
    });
    const elsewhere = `gs://other-bucket/${uniqueName('private')}/train.jsonl`;

    const h = await harness({ blobs: refusing(403) });
    const folder = `incoming/${h.prefix}`;
    await put(`${folder}/tuning.json`, JSON.stringify({ trainingDataset: elsewhere }));
    const rejected = receive(h.subscription, 'tunedrop.v1.dataset.rejected');
    const outcome = await h.handle(await finalized(`${folder}/tuning.json`));
    expect(outcome).toMatchObject({ outcome: 'rejected', errorCount: 1 });
    expect((await readReport(`${folder}/tuning.json`)).problems).toEqual([
      `/trainingDataset: ${elsewhere} is not readable by tunedrop (403): grant the ingest service account roles/storage.objectViewer on that bucket`,
    ]);
    expect((await rejected).subject).toBe(await jobIdOf(`${folder}/tuning.json`));

    const flaky = await harness({ blobs: refusing(503) });
    const flakyFolder = `incoming/${flaky.prefix}`;
    await put(`${flakyFolder}/tuning.json`, JSON.stringify({ trainingDataset: elsewhere }));
    await expect(flaky.handle(await finalized(`${flakyFolder}/tuning.json`))).rejects.toMatchObject({
      status: 503,
    });
    await expect(readReport(`${flakyFolder}/tuning.json`)).rejects.toThrow();
    await h.subscription.close();
    await flaky.subscription.close();
  });

  it('rejects an invalid manifest, naming each wrong field', async () => {
    const h = await harness();
    const folder = `incoming/${h.prefix}`;
    await put(`${folder}/train.jsonl`, goodDataset);
    await put(
      `${folder}/tuning.json`,
      JSON.stringify({ trainingDataset: 'train.jsonl', epochCount: 0, epoch: 3 }),
    );
    const rejected = receive(h.subscription, 'tunedrop.v1.dataset.rejected');

    const outcome = await h.handle(await finalized(`${folder}/tuning.json`));

    expect(outcome).toMatchObject({ outcome: 'rejected', errorCount: 2 });
    expect((await readReport(`${folder}/tuning.json`)).problems).toEqual([
      '/epochCount: must be positive',
      '/epoch: unknown field (did you mean "epochCount"?)',
    ]);
    const event = await rejected;
    expect((event.data as { errors: { field?: string }[] }).errors.map((error) => error.field)).toEqual([
      '/epochCount',
      '/epoch',
    ]);
    expect(await h.store.get(await jobIdOf(`${folder}/tuning.json`))).toBeUndefined();
    await h.subscription.close();
  });

  it('parks a job as a DRAFT under a manual policy and announces the estimate', async () => {
    const h = await harness({ approval: { mode: 'manual' } });
    const name = `incoming/${h.prefix}.jsonl`;
    // Asking for auto cannot loosen the deployment's policy.
    await put(name, goodDataset, { approval: 'auto' });
    const drafted = receive(h.subscription, 'tunedrop.v1.job.drafted');

    const job = asJob(await h.handle(await finalized(name)));

    expect(job.state).toBe('DRAFT');
    expect(job.approval).toEqual({
      policy: { mode: 'manual' },
      required: true,
      reason: 'the approval policy is manual',
    });
    expect(job.provider.createIntentTime).toBeUndefined();
    const event = await drafted;
    expect(event.data).toMatchObject({ state: 'DRAFT', estimate: job.estimate });
    expect(job.estimate?.costUsd).toBeGreaterThan(0);
    // Besides the model's lifecycle note (2.5's retirement date is not confirmed: a warning).
    expect((await readReport(name)).notes.filter((note) => !note.startsWith('/baseModel:'))).toEqual([
      'approval "auto" is looser than the deployment\'s "manual"; the deployment\'s policy applies',
    ]);
    expect(await vertexJobsFor(job.id)).toEqual([]);
    await h.subscription.close();
  });

  it('starts a job under budget at once and drafts one over budget', async () => {
    const h = await harness({ approval: { mode: 'budget', maxCostUsd: 1000 } });
    const cheap = `incoming/${h.prefix}-cheap.jsonl`;
    const dear = `incoming/${h.prefix}-dear.jsonl`;
    await put(cheap, goodDataset);
    await put(dear, goodDataset, { approval: 'budget:0' });
    expect(asJob(await h.handle(await finalized(cheap))).state).toBe('PENDING');
    expect(asJob(await h.handle(await finalized(dear))).state).toBe('DRAFT');
    await h.subscription.close();
  });

  it('drafts a job whose estimate is above TUNEDROP_AUTO_APPROVE_MAX_USD even under auto, saying why', async () => {
    const h = await harness({ approval: { mode: 'auto' }, autoApproveMaxUsd: 0.001 });
    const name = `incoming/${h.prefix}.jsonl`;
    await put(name, goodDataset);
    const drafted = receive(h.subscription, 'tunedrop.v1.job.drafted');

    const job = asJob(await h.handle(await finalized(name)));

    expect(job.state).toBe('DRAFT');
    expect(job.approval.reason).toMatch(
      /^estimate \$[\d.]+ is above TUNEDROP_AUTO_APPROVE_MAX_USD \(\$0\.0010\): approve it to start$/,
    );
    expect(job.history[0]?.reason).toContain('TUNEDROP_AUTO_APPROVE_MAX_USD');
    expect((await drafted).data).toMatchObject({ approval: { reason: job.approval.reason } });
    expect((await readReport(name)).approval).toMatchObject({ required: true, reason: job.approval.reason });
    expect(await vertexJobsFor(job.id)).toEqual([]);

    const off = await harness({ approval: { mode: 'auto' }, autoApproveMaxUsd: null });
    const other = `incoming/${off.prefix}.jsonl`;
    await put(other, goodDataset);
    expect(asJob(await off.handle(await finalized(other))).state).toBe('PENDING');
    await h.subscription.close();
    await off.subscription.close();
  });

  it('ingests an object named in any script, with spaces, #, ? and %, as the local watcher delivers it', async () => {
    const h = await harness();
    const name = `incoming/${h.prefix}-données-日本語 #1?%.jsonl`;
    await put(name, goodDataset);
    // The local watcher's request (binary CloudEvent, ce-* headers), through the Functions
    // Framework, as the local stack serves ingest-dataset.
    functionsFramework.cloudEvent('ingestNamesTest', (event: FrameworkEvent<unknown>) => h.handle(event));
    const server = getTestServer('ingestNamesTest');
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    try {
      const info = statSync(join(root, name), { bigint: true });
      const event = watcherEvent(bucket, name, info.size, info.mtimeNs);
      const { port } = server.address() as { port: number };
      const response = await fetch(`http://127.0.0.1:${port}/`, {
        method: 'POST',
        headers: event.headers,
        body: JSON.stringify(event.data),
      });
      expect(response.ok).toBe(true);
      const job = await h.store.get(jobIdFor({ bucket, object: name, generation: event.data.generation }));
      expect(job).toMatchObject({ state: 'PENDING', source: { object: name } });
      expect((await readReport(name)).status).toBe('accepted');
    } finally {
      await new Promise((closed) => server.close(closed));
      await h.subscription.close();
    }
  });

  it('gives 50 concurrent deliveries of one event one record and one Vertex AI job', async () => {
    const h = await harness();
    const name = `incoming/${h.prefix}.jsonl`;
    await put(name, goodDataset);
    const event = await finalized(name);
    emulator.resetStats();

    const outcomes = await Promise.all(Array.from({ length: 50 }, () => h.handle(structuredClone(event))));

    const jobId = await jobIdOf(name);
    expect(new Set(outcomes.map((outcome) => asJob(outcome).id))).toEqual(new Set([jobId]));
    expect(outcomes.filter((outcome) => outcome?.outcome === 'job' && outcome.created)).toHaveLength(1);
    expect((await h.store.list()).jobs.map((job) => job.id)).toEqual([jobId]);
    expect(await vertexJobsFor(jobId)).toHaveLength(1);
    expect(emulator.stats().create).toBe(1);
    const job = await h.store.get(jobId);
    expect(job?.state).toBe('PENDING');
    await h.subscription.close();
  });

  it('adopts the Vertex AI job of a start that died between create and the record update', async () => {
    // The first instance dies inside create: Vertex has made the job, the record only has the intent.
    const dying: TuningProvider = {
      ...provider,
      name: provider.name,
      createJob: async (spec, recordId) => {
        await provider.createJob(spec, recordId);
        return new Promise(() => {});
      },
    };
    const first = await harness({ provider: dying });
    const name = `incoming/${first.prefix}.jsonl`;
    await put(name, goodDataset);
    const event = await finalized(name);
    const jobId = await jobIdOf(name);
    void first.handle(event);
    await expect.poll(async () => (await vertexJobsFor(jobId)).length, { timeout: 120_000 }).toBe(1);
    const orphan = await first.store.get(jobId);
    expect(orphan?.provider.createIntentTime).toBeDefined();
    expect(orphan?.provider.jobName).toBeUndefined();

    // Eventarc redelivers to a healthy instance.
    const second = createIngestHandler({
      config: {
        project,
        defaults: { baseModel: 'gemini-2.5-flash' },
        approval: { mode: 'auto' },
        eventMaxAgeMs: 86_400_000,
      },
      store: first.store,
      provider,
      publisher: { publish: async () => 'ok' },
      blobs: createLocalBlobStore({ root }),
      logger: first.logs,
      clock: () => new Date(),
    });
    const job = asJob(await second(event));

    const vertexJobs = await vertexJobsFor(jobId);
    expect(vertexJobs).toHaveLength(1);
    expect(job.state).toBe('PENDING');
    expect(job.provider.jobName).toBe(vertexJobs[0]?.name);
    expect(job.history.at(-1)?.reason).toMatch(/adopted/);
    await first.subscription.close();
  });

  it('after a create that timed out, looks the label up before creating again', async () => {
    const timingOut: TuningProvider = {
      ...provider,
      name: provider.name,
      createJob: async (spec, recordId) => {
        await provider.createJob(spec, recordId);
        throw new ProviderError('timed out', 0, 'DEADLINE_EXCEEDED', true);
      },
    };
    const h = await harness({ provider: timingOut });
    const name = `incoming/${h.prefix}.jsonl`;
    await put(name, goodDataset);
    const queued = asJob(await h.handle(await finalized(name)));
    expect(queued.state).toBe('QUEUED');
    expect(queued.provider.createIntentTime).toBeDefined();

    emulator.resetStats();
    const later = new Date(Date.parse(queued.nextAttemptTime!) + 1);
    const job = await startJob(
      {
        store: h.store,
        provider,
        publisher: { publish: async () => 'ok' },
        logger: h.logs,
        now: () => later,
        project,
      },
      queued.id,
    );
    expect(job.state).toBe('PENDING');
    expect(emulator.stats().create).toBe(0);
    expect(await vertexJobsFor(queued.id)).toHaveLength(1);
    await h.subscription.close();
  });

  it('after a create answered 503 when Vertex AI had made the job, adopts it instead of creating another', async () => {
    // The emulator has no "create, then answer 503" fault: create the labelled job for real, then
    // answer as an overloaded front end would.
    const unavailableAfterCreate: TuningProvider = {
      ...provider,
      name: provider.name,
      createJob: async (spec, recordId) => {
        await provider.createJob(spec, recordId);
        throw new ProviderError('The service is currently unavailable.', 503, 'UNAVAILABLE', true);
      },
    };
    const h = await harness({ provider: unavailableAfterCreate });
    const name = `incoming/${h.prefix}.jsonl`;
    await put(name, goodDataset);
    const queued = asJob(await h.handle(await finalized(name)));
    expect(queued.state).toBe('QUEUED');
    expect(queued.provider.createIntentTime).toBeDefined();
    expect(await vertexJobsFor(queued.id)).toHaveLength(1);

    // The poller's retry, once due.
    emulator.resetStats();
    const later = new Date(Date.parse(queued.nextAttemptTime!) + 1);
    const job = await startJob(
      { store: h.store, provider, publisher: h.publisher, logger: h.logs, now: () => later, project },
      queued.id,
    );

    const vertexJobs = await vertexJobsFor(queued.id);
    expect(vertexJobs).toHaveLength(1);
    expect(emulator.stats().create).toBe(0);
    expect(job.state).toBe('PENDING');
    expect(job.provider.jobName).toBe(vertexJobs[0]?.name);
    expect(job.history.at(-1)?.reason).toMatch(/adopted/);
    await h.subscription.close();
  });

  it('queues a job Vertex AI refused with 429 and starts it on a later attempt', async () => {
    const h = await harness();
    const name = `incoming/${h.prefix}.jsonl`;
    await put(name, goodDataset);
    emulator.faults.set({ rateLimitCreates: 1 });

    const queued = asJob(await h.handle(await finalized(name)));

    expect(queued.state).toBe('QUEUED');
    expect(queued.attempts).toBe(1);
    expect(queued.nextAttemptTime && queued.nextAttemptTime > queued.updateTime).toBe(true);
    expect(queued.provider.createIntentTime).toBeUndefined();
    expect(await vertexJobsFor(queued.id)).toEqual([]);

    const deps = { store: h.store, provider, publisher: h.publisher, logger: h.logs, project };
    // Not due yet: nothing happens.
    expect((await startJob({ ...deps, now: () => new Date() }, queued.id)).state).toBe('QUEUED');
    expect(await vertexJobsFor(queued.id)).toEqual([]);

    const later = new Date(Date.parse(queued.nextAttemptTime!) + 1);
    const started = receive(h.subscription, 'tunedrop.v1.job.started');
    const job = await startJob({ ...deps, now: () => later }, queued.id);
    expect(job.state).toBe('PENDING');
    expect(job.attempts).toBe(2);
    expect(await vertexJobsFor(queued.id)).toHaveLength(1);
    expect((await started).subject).toBe(queued.id);
    await h.subscription.close();
  });

  it('fails a job Vertex AI rejects with 400, keeping its field violations', async () => {
    const h = await harness();
    const name = `incoming/${h.prefix}.jsonl`;
    // A model tunedrop does not know: checked with conservative limits and sent, and Vertex AI's
    // own answer (here: not tunable, a 400 the emulator gives on demand) stands.
    await put(name, goodDataset, { 'base-model': 'gemini-9-flash' });
    emulator.faults.set({ rejectCreates: 1 });
    const failed = receive(h.subscription, 'tunedrop.v1.job.failed');

    const job = asJob(await h.handle(await finalized(name)));

    expect(job.state).toBe('FAILED');
    expect(job.error).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/not supported/),
    });
    expect(JSON.stringify(job.error?.details)).toMatch(/base_model/);
    expect((await failed).data).toMatchObject({ state: 'FAILED', error: { code: 'INVALID_ARGUMENT' } });
    expect(await vertexJobsFor(job.id)).toEqual([]);
    await h.subscription.close();
  });

  it('applies object metadata overrides to a single-file drop', async () => {
    const h = await harness();
    const name = `incoming/${h.prefix}.jsonl`;
    await put(name, goodDataset, {
      'base-model': 'gemini-2.5-flash-lite',
      'epoch-count': '4',
      'learning-rate-multiplier': '0.5',
      'adapter-size': 'EIGHT',
      'display-name': 'from metadata',
    });

    const job = asJob(await h.handle(await finalized(name)));

    expect(job.spec).toMatchObject({
      baseModel: 'gemini-2.5-flash-lite',
      epochCount: 4,
      learningRateMultiplier: 0.5,
      adapterSize: 'EIGHT',
      tunedModelDisplayName: 'from metadata',
    });
    expect(job.estimate?.epochs).toBe(4);
    const [vertexJob] = await vertexJobsFor(job.id);
    expect(vertexJob?.supervisedTuningSpec).toMatchObject({
      hyperParameters: { epochCount: '4', learningRateMultiplier: 0.5, adapterSize: 'ADAPTER_SIZE_EIGHT' },
    });
    await h.subscription.close();
  });

  it('rejects an invalid metadata override like an invalid manifest', async () => {
    const h = await harness();
    const name = `incoming/${h.prefix}.jsonl`;
    await put(name, goodDataset, { 'epoch-count': 'three' });
    const outcome = await h.handle(await finalized(name));
    expect(outcome).toMatchObject({ outcome: 'rejected', errorCount: 1 });
    expect((await readReport(name)).problems).toEqual([
      '/metadata/epoch-count: must be a number, got "three"',
    ]);
    await h.subscription.close();
  });

  it('ignores what is not an upload to act on, saying why, and creates nothing', async () => {
    const h = await harness();
    await put(`incoming/${h.prefix}/notes.txt`, 'hello');
    await put(`other/${h.prefix}.jsonl`, goodDataset);
    await put(`incoming/${h.prefix}-meta.jsonl`, goodDataset);
    await createLocalBlobStore({ root }).write(
      bucket,
      `reports/${h.prefix}.report.json`,
      '{}',
      'application/json',
    );

    const outcomes = [
      await h.handle(await finalized(`incoming/${h.prefix}/notes.txt`)),
      await h.handle(await finalized(`other/${h.prefix}.jsonl`)),
      await h.handle(await finalized(`reports/${h.prefix}.report.json`)),
      await h.handle(await finalized(`incoming/${h.prefix}-meta.jsonl`, { metageneration: '2' })),
      await h.handle({ ...(await finalized(`incoming/${h.prefix}-meta.jsonl`)), data: { name: 42 } }),
    ];

    expect(outcomes).toEqual([
      { outcome: 'ignored', reason: 'not a .jsonl dataset or a tuning.json manifest' },
      { outcome: 'ignored', reason: 'outside incoming/' },
      { outcome: 'ignored', reason: "tunedrop's own output (reports/)" },
      { outcome: 'ignored', reason: 'a metadata update (metageneration 2), not a new upload' },
      undefined,
    ]);
    expect(h.logs.entries.map((entry) => entry.message)).toContain(
      `ignored incoming/${h.prefix}/notes.txt: not a .jsonl dataset or a tuning.json manifest`,
    );
    expect((await h.store.list()).jobs).toEqual([]);
    await h.subscription.close();
  });

  it('acknowledges an event older than the retry cut-off without acting on it', async () => {
    const h = await harness();
    const name = `incoming/${h.prefix}.jsonl`;
    await put(name, goodDataset);
    const event = await finalized(name);
    const outcome = await h.handle({ ...event, time: new Date(Date.now() - 2 * 86_400_000).toISOString() });
    expect(outcome).toMatchObject({ outcome: 'too-old' });
    expect((await h.store.list()).jobs).toEqual([]);
    await h.subscription.close();
  });
});
