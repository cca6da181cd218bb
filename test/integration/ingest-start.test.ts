/**
 * Starting exactly one billed job when Vertex AI misbehaves, and stopping cleanly when the record
 * is lost: a create that answers 503 after making the job followed by a list that lags, a record
 * deleted during its start, and a permanent error that escapes ingest. On the real Firestore and
 * Pub/Sub emulators and a Vertex AI emulator that shares the test's clock (so the list lag and
 * tunedrop's retry times are measured on one timeline).
 */
import type { Firestore } from '@google-cloud/firestore';
import type { PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startVertexEmulator, type VertexEmulator } from '../../local/vertex-emulator/index.ts';
import { defaultLookupSettleMs, type JobRecord, startJob } from '../../shared/jobs/index.ts';
import type { TuningProvider } from '../../shared/providers/types.ts';
import { createVertexProvider } from '../../shared/providers/vertex/index.ts';
import { createLocalBlobStore } from '../../shared/storage/index.ts';
import {
  asJob,
  createIngestHarness,
  emulatorJobsFor,
  type IngestHarness,
  putObject,
  readIngestReport,
  receiveEvent as receive,
} from '../support/ingest-harness.ts';
import {
  example,
  finalizedEvent,
  type IngestEnvironment,
  project,
  startIngestEnvironment,
} from './ingest-environment.ts';

let root: string;
let firestore: Firestore;
let pubsub: PubSub;
let environment: IngestEnvironment | undefined;
/** The Vertex AI emulator of these tests, on `clock`. */
let emulator: VertexEmulator;
let provider: TuningProvider;
let clock = Date.now();

beforeAll(async () => {
  environment = await startIngestEnvironment('tunedrop-ingest-start-');
  ({ root, firestore, pubsub } = environment);
  emulator = await startVertexEmulator({ port: 0, jobSeconds: 3600, bucketDir: root, now: () => clock });
  provider = createVertexProvider({ project, region: 'us-central1', endpoint: emulator.url });
});
afterAll(async () => {
  await emulator?.close();
  await environment?.stop();
});
beforeEach(() => {
  emulator.faults.reset();
  clock = Date.now();
});

const goodDataset = `${Array.from({ length: 20 }, (_, i) => example(`What is ${i} + 1?`, `${i + 1}.`)).join('\n')}\n`;

type Harness = IngestHarness & { start: (jobId: string, at: number) => Promise<JobRecord> };

async function harness(options: { provider?: TuningProvider } = {}): Promise<Harness> {
  const h = await createIngestHarness(
    { firestore, pubsub },
    {
      prefix: 's',
      provider: options.provider ?? provider,
      blobs: createLocalBlobStore({ root }),
      clock: () => new Date(clock),
    },
  );
  // The poller's retry of a QUEUED job, at emulated time `at`.
  const start = (jobId: string, at: number) => {
    clock = at;
    return startJob(
      {
        store: h.store,
        provider,
        publisher: h.publisher,
        logger: h.logs,
        now: () => new Date(clock),
        project,
      },
      jobId,
    );
  };
  return { ...h, start };
}

const put = (name: string, content: string) => putObject(root, name, content);
const vertexJobsFor = (jobId: string) => emulatorJobsFor(emulator, jobId);
const readReport = (name: string) => readIngestReport(root, name);

describe('a create that answered 503 after making the job, and a list that lags', () => {
  it('waits until the list can show the job, then adopts it: one billed job, no stale error', async () => {
    const h = await harness();
    const name = `incoming/${h.prefix}.jsonl`;
    await put(name, goodDataset);
    // Vertex makes the job but answers 503; its list shows new jobs only after 30 s.
    emulator.faults.set({ unavailableAfterCreates: 1, listLagMs: 30_000 });

    const queued = asJob(await h.handle(await finalizedEvent(root, name)));

    expect(queued.state).toBe('QUEUED');
    expect(queued.error).toMatchObject({ code: 'UNAVAILABLE' });
    expect(queued.provider.createIntentTime).toBeDefined();
    // The retry is not due before the lookup can be believed.
    const due = Date.parse(queued.nextAttemptTime!);
    expect(due).toBeGreaterThanOrEqual(Date.parse(queued.provider.createIntentTime!) + defaultLookupSettleMs);
    expect((await h.start(queued.id, clock + 20_000)).state).toBe('QUEUED');
    expect(await vertexJobsFor(queued.id)).toHaveLength(1);

    const job = await h.start(queued.id, due + 1);

    const vertexJobs = await vertexJobsFor(queued.id);
    expect(vertexJobs).toHaveLength(1);
    expect(emulator.stats().create).toBe(1);
    expect(job.state).toBe('PENDING');
    expect(job.provider.jobName).toBe(vertexJobs[0]?.name);
    expect(job.error).toBeUndefined();
    expect(job.nextAttemptTime).toBeUndefined();
    await h.subscription.close();
  });

  it('when a second job was made anyway, the next lookup keeps the oldest and cancels the other, in the history', async () => {
    emulator.resetStats();
    const h = await harness();
    const name = `incoming/${h.prefix}.jsonl`;
    await put(name, goodDataset);
    // Both creates answer 503 after making a job, and the list lags past tunedrop's wait.
    emulator.faults.set({ unavailableAfterCreates: 2, listLagMs: 60 * 60_000 });

    const first = asJob(await h.handle(await finalizedEvent(root, name)));
    const second = await h.start(first.id, Date.parse(first.nextAttemptTime!) + 1);
    expect(second.state).toBe('QUEUED');
    const made = await vertexJobsFor(first.id);
    expect(made).toHaveLength(2);
    const [newest, oldest] = made as unknown as [{ name: string }, { name: string }];

    // The list catches up.
    emulator.faults.set({ listLagMs: 0 });
    const job = await h.start(first.id, Date.parse(second.nextAttemptTime!) + 1);

    expect(emulator.stats().create).toBe(2);
    expect(job.state).toBe('PENDING');
    expect(job.provider.jobName).toBe(oldest.name);
    expect(job.error).toBeUndefined();
    expect(job.history.map((entry) => entry.reason)).toContainEqual(
      `cancelled duplicate provider job ${newest.name} made by a retried start; kept the oldest, ${oldest.name}`,
    );
    const states = Object.fromEntries(
      (await vertexJobsFor(first.id)).map((vertexJob) => [vertexJob.name, vertexJob.state]),
    );
    expect(states[oldest.name]).toBe('JOB_STATE_PENDING');
    expect(['JOB_STATE_CANCELLING', 'JOB_STATE_CANCELLED']).toContain(states[newest.name]);
    expect(h.logs.entries).toContainEqual(
      expect.objectContaining({
        severity: 'ERROR',
        message: 'cancelled a duplicate provider job of one record',
        duplicate: newest.name,
        kept: oldest.name,
      }),
    );
    await h.subscription.close();
  });
});

describe('a job record lost during its start', () => {
  it('stops the start with an error, cancels the job Vertex made, and reports the upload', async () => {
    let collection = '';
    // Someone deletes the record while the create call is on the wire.
    const deleting: TuningProvider = {
      ...provider,
      name: provider.name,
      createJob: async (spec, recordId) => {
        await firestore.collection(collection).doc(recordId).delete();
        return provider.createJob(spec, recordId);
      },
    };
    const h = await harness({ provider: deleting });
    collection = h.collection;
    const name = `incoming/${h.prefix}.jsonl`;
    await put(name, goodDataset);
    const rejected = receive(h.subscription, 'tunedrop.v1.dataset.rejected');

    const outcome = await h.handle(await finalizedEvent(root, name));

    // Acknowledged (a retry cannot bring the record back), never logged as a success.
    expect(outcome).toBeUndefined();
    const messages = h.logs.entries.map((entry) => entry.message);
    expect(messages).not.toContain('provider job recorded');
    expect(messages).toContainEqual(expect.stringMatching(/failed permanently \(permanent:job-not-found\)/));
    const report = await readReport(name);
    expect(report.status).toBe('rejected');
    expect(report.problems[0]).toMatch(
      /was deleted while it was being started; provider job .* was cancelled/,
    );
    const event = await rejected;
    const jobId = event.subject;
    const made = await vertexJobsFor(jobId);
    expect(made).toHaveLength(1);
    expect(['JOB_STATE_CANCELLING', 'JOB_STATE_CANCELLED']).toContain(made[0]?.state);
    expect(await h.store.get(jobId)).toBeUndefined();
    await h.subscription.close();
  });
});

describe('a permanent error that escapes ingest', () => {
  it('ends in a report and a dataset.rejected event, and is acknowledged', async () => {
    const h = await harness();
    const name = `incoming/${h.prefix}.jsonl`;
    await put(name, goodDataset);
    const event = await finalizedEvent(root, name);
    // The local store's custom-metadata sidecar is not JSON: the same on every retry.
    await put(`${name}.metadata.json`, '{not json');
    const rejected = receive(h.subscription, 'tunedrop.v1.dataset.rejected');

    const outcome = await h.handle(event);

    expect(outcome).toBeUndefined();
    const report = await readReport(name);
    expect(report).toMatchObject({ status: 'rejected', kind: 'dataset' });
    expect(report.problems).toEqual([
      expect.stringMatching(
        /^\/: tunedrop could not process this upload \(permanent:invalid-metadata-sidecar\): .*metadata\.json is not valid JSON/,
      ),
    ]);
    const published = await rejected;
    expect((published.data as { errors: { code: string }[] }).errors).toEqual([
      expect.objectContaining({ code: 'processing_failed', file: name }),
    ]);
    expect((await h.store.list()).jobs).toEqual([]);
    await h.subscription.close();
  });
});
