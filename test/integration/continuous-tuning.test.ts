/**
 * Continuous tuning through ingest, on the Firestore and Pub/Sub emulators and the Vertex AI
 * emulator: a manifest names a tuned model instead of a base model; tunedrop finds the base model
 * of that tuned model (here from the tunedrop job that produced it), validates the dataset against
 * it, refuses what the catalog says cannot be continued, and sends Vertex `preTunedModel` only.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIngestHandler, type IngestOutcome } from '../../functions/ingest-dataset/index.ts';
import { createPubSubPublisher } from '../../shared/events/index.ts';
import { createFirestoreJobStore, type JobStore, jobIdLabel } from '../../shared/jobs/index.ts';
import { createMemoryLogger } from '../../shared/logging/index.ts';
import { createLocalBlobStore } from '../../shared/storage/index.ts';
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

let env: IngestEnvironment;
let store: JobStore;
let handle: ReturnType<typeof createIngestHandler>;

beforeAll(async () => {
  env = await startIngestEnvironment('tunedrop-continue-');
  const topic = uniqueName('events');
  await env.pubsub.createTopic(topic);
  const logger = createMemoryLogger('ingest');
  store = createFirestoreJobStore({ firestore: env.firestore, collection: uniqueName('jobs') });
  handle = createIngestHandler({
    config: {
      project,
      defaults: { baseModel: 'gemini-2.5-flash' },
      approval: { mode: 'auto' },
      eventMaxAgeMs: 24 * 60 * 60_000,
    },
    store,
    provider: env.provider,
    publisher: createPubSubPublisher({ pubsub: env.pubsub, topic, logger }),
    blobs: createLocalBlobStore({ root: env.root }),
    logger,
    clock: () => new Date(),
  });
});
afterAll(async () => {
  await env?.stop();
});

const dataset = `${Array.from({ length: 20 }, (_, i) => example(`Question ${i}?`, `Answer ${i}.`)).join('\n')}\n`;

async function put(name: string, content: string) {
  const path = join(env.root, name);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
}

/** A succeeded tunedrop job whose tuned model a new manifest continues from. */
async function succeededJob(baseModel: string) {
  const id = uniqueName('src')
    .replace(/[^a-z0-9]/g, '')
    .padEnd(32, '0')
    .slice(0, 32);
  const tunedModel = `projects/${project}/locations/us-central1/models/${Date.now()}${Math.floor(Math.random() * 1000)}@1`;
  const record = jobFixture('SUCCEEDED', {
    id,
    spec: { baseModel, trainingDatasetUri: `gs://${bucket}/incoming/old.jsonl`, labels: {} },
    result: { tunedModel, endpoint: `projects/${project}/locations/us-central1/endpoints/9` },
  });
  await store.create(record);
  return { record, tunedModel };
}

async function dropManifest(
  manifest: Record<string, unknown>,
): Promise<{ outcome: IngestOutcome | undefined; folder: string }> {
  const folder = `incoming/${uniqueName('c')}`;
  await put(`${folder}/train.jsonl`, dataset);
  await put(`${folder}/tuning.json`, JSON.stringify({ trainingDataset: 'train.jsonl', ...manifest }));
  return { outcome: await handle(await finalizedEvent(env.root, `${folder}/tuning.json`)), folder };
}

const readReport = async (folder: string) =>
  JSON.parse(
    await createLocalBlobStore({ root: env.root }).readText(
      bucket,
      `reports/${folder}/tuning.json.report.json`,
    ),
  );

const vertexJobsFor = async (jobId: string) =>
  (await env.emulator.jobs()).filter((job) => (job.labels as Record<string, string>)[jobIdLabel] === jobId);

describe('continuous tuning through ingest', () => {
  it('validates against the base model of the tuned model and sends Vertex preTunedModel, not baseModel', async () => {
    const { record: source, tunedModel } = await succeededJob('gemini-2.5-flash');
    const { outcome, folder } = await dropManifest({
      preTunedModel: { tunedModelName: tunedModel, checkpointId: '2' },
      exportLastCheckpointOnly: true,
      epochCount: 1,
    });
    if (outcome?.outcome !== 'job') throw new Error(`expected a job, got ${JSON.stringify(outcome)}`);
    const job = outcome.job;
    expect(job.state).toBe('PENDING');
    expect(job.spec).toMatchObject({
      baseModel: 'gemini-2.5-flash',
      preTunedModel: { tunedModelName: tunedModel, checkpointId: '2' },
      exportLastCheckpointOnly: true,
    });
    const [vertexJob] = await vertexJobsFor(job.id);
    expect(vertexJob?.baseModel).toBeUndefined();
    expect(vertexJob).toMatchObject({
      preTunedModel: { tunedModelName: tunedModel, checkpointId: '2' },
      supervisedTuningSpec: { exportLastCheckpointOnly: true },
    });
    const report = await readReport(folder);
    expect(JSON.stringify(report)).toContain(`base model gemini-2.5-flash, from tunedrop job ${source.id}`);
  });

  it('refuses, before any spend, a tuned model whose base does not support continuous tuning', async () => {
    const { tunedModel } = await succeededJob('gemini-2.0-flash-001');
    const { outcome, folder } = await dropManifest({ preTunedModel: { tunedModelName: tunedModel } });
    expect(outcome?.outcome).toBe('rejected');
    const report = await readReport(folder);
    expect(JSON.stringify(report)).toMatch(
      /was tuned from gemini-2\.0-flash-001, which does not support continuous tuning/,
    );
    expect(await vertexJobsFor((outcome as { jobId: string }).jobId)).toEqual([]);
  });

  it('refuses a manifest that names both a base model and a tuned model', async () => {
    const { tunedModel } = await succeededJob('gemini-2.5-flash');
    const { outcome, folder } = await dropManifest({
      baseModel: 'gemini-2.5-flash',
      preTunedModel: { tunedModelName: tunedModel },
    });
    expect(outcome?.outcome).toBe('rejected');
    expect(JSON.stringify(await readReport(folder))).toContain(
      'give either baseModel or preTunedModel, not both',
    );
  });

  it('refuses a tuned model that neither tunedrop nor Vertex AI knows', async () => {
    const { outcome, folder } = await dropManifest({
      preTunedModel: { tunedModelName: `projects/${project}/locations/us-central1/models/404404` },
    });
    expect(outcome?.outcome).toBe('rejected');
    expect(JSON.stringify(await readReport(folder))).toContain('does not exist at the provider');
  });
});
