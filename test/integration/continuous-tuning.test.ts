/**
 * Continuous tuning through ingest, on the Firestore and Pub/Sub emulators and the Vertex AI
 * emulator: a manifest names a tuned model instead of a base model; tunedrop finds the base model
 * of that tuned model (here from the tunedrop job that produced it), validates the dataset against
 * it, refuses what the catalog says cannot be continued, and sends Vertex `preTunedModel` only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestOutcome } from '../../functions/ingest-dataset/index.ts';
import { startVertexEmulator, type VertexEmulator } from '../../local/vertex-emulator/index.ts';
import { type JobStore, jobIdLabel } from '../../shared/jobs/index.ts';
import { createVertexProvider, type TuningProvider } from '../../shared/providers/index.ts';
import { createLocalBlobStore } from '../../shared/storage/index.ts';
import { createIngestHarness, type IngestHarness, putObject } from '../support/ingest-harness.ts';
import { uniqueName } from '../support/names.ts';
import { jobFixture } from '../unit/jobs/job-fixture.ts';
import { manualClock } from '../unit/poll-jobs/fixtures.ts';
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
let handle: IngestHarness['handle'];
/** An emulator on a hand-moved clock, so a source job can finish without waiting. */
let vertex: VertexEmulator;
let provider: TuningProvider;
const clock = manualClock(new Date());

beforeAll(async () => {
  env = await startIngestEnvironment('tunedrop-continue-');
  vertex = await startVertexEmulator({ port: 0, jobSeconds: 10, bucketDir: env.root, now: clock.ms });
  provider = createVertexProvider({ project, region: 'us-central1', endpoint: vertex.url });
  ({ store, handle } = await createIngestHarness(env, {
    prefix: 'c',
    provider,
    blobs: createLocalBlobStore({ root: env.root }),
  }));
});
afterAll(async () => {
  await vertex?.close();
  await env?.stop();
});

const dataset = `${Array.from({ length: 20 }, (_, i) => example(`Question ${i}?`, `Answer ${i}.`)).join('\n')}\n`;

const put = (name: string, content: string) => putObject(env.root, name, content);

/**
 * A succeeded tunedrop job whose tuned model a new manifest continues from: the job really runs
 * at the emulator (which refuses a preTunedModel it did not make), and its record says what the
 * poller would have recorded.
 */
async function succeededJob(baseModel: string) {
  const id = uniqueName('src')
    .replace(/[^a-z0-9]/g, '')
    .padEnd(32, '0')
    .slice(0, 32);
  await put('incoming/old.jsonl', dataset);
  const spec = {
    baseModel,
    trainingDatasetUri: `gs://${bucket}/incoming/old.jsonl`,
    epochCount: 2,
    labels: {},
  };
  const created = await provider.createJob(spec, id);
  clock.advance(11_000);
  const done = await provider.getJob(created.name);
  if (done.state !== 'SUCCEEDED' || !done.result?.tunedModel) throw new Error(`source job is ${done.state}`);
  const record = jobFixture('SUCCEEDED', {
    id,
    spec,
    provider: { name: 'vertex', jobName: created.name },
    result: done.result,
  });
  await store.create(record);
  return { record, tunedModel: done.result.tunedModel };
}

/** A tuned model tunedrop knows as made from `baseModel` (its provider job is not needed). */
async function recordedTunedModel(baseModel: string) {
  const id = uniqueName('rec')
    .replace(/[^a-z0-9]/g, '')
    .padEnd(32, '0')
    .slice(0, 32);
  const tunedModel = `projects/${project}/locations/us-central1/models/${Date.now()}@1`;
  await store.create(
    jobFixture('SUCCEEDED', {
      id,
      spec: { baseModel, trainingDatasetUri: `gs://${bucket}/incoming/old.jsonl`, labels: {} },
      result: { tunedModel },
    }),
  );
  return { tunedModel };
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
  (await vertex.jobs()).filter((job) => (job.labels as Record<string, string>)[jobIdLabel] === jobId);

describe('continuous tuning through ingest', () => {
  it('validates against the base model of the tuned model and sends Vertex preTunedModel, not baseModel', async () => {
    const { record: source, tunedModel } = await succeededJob('gemini-3.5-flash');
    const { outcome, folder } = await dropManifest({
      preTunedModel: { tunedModelName: tunedModel, checkpointId: '2' },
      exportLastCheckpointOnly: true,
      epochCount: 1,
    });
    if (outcome?.outcome !== 'job') throw new Error(`expected a job, got ${JSON.stringify(outcome)}`);
    const job = outcome.job;
    expect(job.state).toBe('PENDING');
    expect(job.spec).toMatchObject({
      baseModel: 'gemini-3.5-flash',
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
    expect(JSON.stringify(report)).toContain(`base model gemini-3.5-flash, from tunedrop job ${source.id}`);
    // Vertex accepted it and filled in the base model as output, as the real service does.
    const [accepted] = await vertexJobsFor(job.id);
    expect(accepted?.state).not.toBe('JOB_STATE_FAILED');
  });

  it('refuses, before any spend, a tuned model whose base does not support continuous tuning', async () => {
    const { tunedModel } = await recordedTunedModel('gemini-2.0-flash-001');
    const { outcome, folder } = await dropManifest({ preTunedModel: { tunedModelName: tunedModel } });
    expect(outcome?.outcome).toBe('rejected');
    const report = await readReport(folder);
    expect(JSON.stringify(report)).toMatch(
      /was tuned from gemini-2\.0-flash-001, which does not support continuous tuning/,
    );
    expect(await vertexJobsFor((outcome as { jobId: string }).jobId)).toEqual([]);
  });

  it('refuses a manifest that names both a base model and a tuned model', async () => {
    const { tunedModel } = await recordedTunedModel('gemini-3.5-flash');
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
