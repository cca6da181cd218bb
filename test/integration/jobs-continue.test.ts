/**
 * `tunedrop jobs continue` through the admin API on the emulators: the route writes a manifest
 * that starts from the succeeded job's tuned model, idempotently per request id, and ingest turns
 * it into a validated continuous-tuning job (Vertex gets `preTunedModel`, not `baseModel`).
 */
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { continueJobCommand } from '../../cli/commands/jobs-continue.ts';
import { ApiRequestError, createApiClient } from '../../cli/lib/api-client.ts';
import { createIngestHandler, type IngestOutcome } from '../../functions/ingest-dataset/index.ts';
import { jobIdLabel } from '../../shared/jobs/index.ts';
import { createMemoryLogger } from '../../shared/logging/index.ts';
import { jobFixture } from '../unit/jobs/job-fixture.ts';
import { type ApiStack, bucket, startApiStack } from './api-fixtures.ts';
import { finalizedEvent } from './ingest-environment.ts';

let stack: ApiStack;
let ingest: ReturnType<typeof createIngestHandler>;

beforeAll(async () => {
  // Source jobs finish within a second, so a test waits for a real tuned model.
  stack = await startApiStack({ jobSeconds: 1 });
  ingest = createIngestHandler({
    config: { ...stack.config, eventMaxAgeMs: 24 * 60 * 60_000 },
    store: stack.store,
    provider: stack.provider,
    publisher: stack.publisher,
    blobs: stack.blobs,
    logger: createMemoryLogger('ingest'),
    clock: () => new Date(),
  });
});
afterAll(async () => {
  await stack?.close();
});

const client = () => createApiClient({ baseUrl: stack.url, headers: async () => ({}) });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A job that really ran at the emulator (which refuses a preTunedModel it did not make), recorded as succeeded. */
async function succeededSource(id: string) {
  const spec = {
    baseModel: 'gemini-3.5-flash',
    trainingDatasetUri: `gs://${bucket}/incoming/support-answers.jsonl`,
    epochCount: 2,
    labels: { team: 'support' },
  };
  const created = await stack.provider.createJob(spec, id);
  let done = await stack.provider.getJob(created.name);
  while (done.state !== 'SUCCEEDED') {
    await sleep(100);
    done = await stack.provider.getJob(created.name);
  }
  const record = jobFixture('SUCCEEDED', {
    id,
    spec,
    provider: { name: 'vertex', jobName: created.name },
    result: done.result,
  });
  await stack.store.create(record);
  return { record, tunedModel: done.result?.tunedModel as string };
}

describe('jobs continue', () => {
  it('writes a manifest from the job’s tuned model once per request id, which ingest validates and starts', async () => {
    const { record: source, tunedModel } = await succeededSource('continuesource000000000000000001');
    const request = {
      trainingDataset: `gs://${bucket}/incoming/support-answers.jsonl`,
      checkpointId: '2',
      requestId: 'retry-safe-1',
    };
    const first = await client().continueJob(source.id, request);
    const again = await client().continueJob(source.id, request);
    expect(first).toMatchObject({
      created: true,
      preTunedModel: { tunedModelName: tunedModel, checkpointId: '2' },
    });
    expect(again).toEqual({ ...first, created: false });
    expect(first.manifestUri).toBe(`gs://${bucket}/incoming/continue-${source.id}-retry-safe-1/tuning.json`);

    const object = first.manifestUri.slice(`gs://${bucket}/`.length);
    const outcome = (await ingest(await finalizedEvent(stack.bucketDir, object))) as IngestOutcome;
    if (outcome.outcome !== 'job') throw new Error(`expected a job, got ${JSON.stringify(outcome)}`);
    expect(outcome.job.id).toBe(first.jobId);
    expect(outcome.job.spec).toMatchObject({
      baseModel: 'gemini-3.5-flash',
      preTunedModel: { tunedModelName: tunedModel, checkpointId: '2' },
      labels: { team: 'support', 'continued-from': source.id },
    });
    const vertexJobs = (await stack.vertex.jobs()).filter(
      (job) => (job.labels as Record<string, string>)[jobIdLabel] === first.jobId,
    );
    expect(vertexJobs).toHaveLength(1);
    expect(vertexJobs[0]?.baseModel).toBeUndefined();
    expect(vertexJobs[0]?.preTunedModel).toMatchObject({ tunedModelName: tunedModel, checkpointId: '2' });
    expect(vertexJobs[0]?.state).not.toBe('JOB_STATE_FAILED');
  });

  it('uploads a local dataset next to the manifest, after it, from the CLI', async () => {
    const { record: source } = await succeededSource('continuesource000000000000000002');
    const local = join(stack.bucketDir, '..', `tunedrop-continue-${process.pid}.jsonl`);
    await copyFile(join(stack.bucketDir, 'incoming/support-answers.jsonl'), local);
    try {
      expect(
        await continueJobCommand(client(), source.id, {
          dataset: local,
          'bucket-dir': stack.bucketDir,
          json: true,
        }),
      ).toBe(0);
    } finally {
      const { rm } = await import('node:fs/promises');
      await rm(local, { force: true });
    }
    const folder = (await stack.blobs.list(bucket, `incoming/continue-${source.id}-`)).map(
      (info) => info.name,
    );
    expect(folder.some((name) => name.endsWith('/tuning.json'))).toBe(true);
    expect(folder.some((name) => /\/train-tunedrop-continue-\d+\.jsonl$/.test(name))).toBe(true);
  });

  it('refuses a job that has not succeeded, and a checkpoint the job does not have', async () => {
    const running = jobFixture('RUNNING', { id: 'continuesource000000000000000003' });
    await stack.store.create(running);
    await expect(
      client().continueJob(running.id, { trainingDataset: `gs://${bucket}/incoming/x.jsonl` }),
    ).rejects.toMatchObject({ status: 'FAILED_PRECONDITION' });
    const { record: source } = await succeededSource('continuesource000000000000000004');
    const refused = client().continueJob(source.id, {
      trainingDataset: `gs://${bucket}/incoming/x.jsonl`,
      checkpointId: '9',
    });
    await expect(refused).rejects.toBeInstanceOf(ApiRequestError);
    await expect(refused).rejects.toMatchObject({ status: 'INVALID_ARGUMENT' });
  });
});
