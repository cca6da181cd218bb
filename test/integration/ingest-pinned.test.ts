/**
 * Validated bytes are trained bytes. A job that starts after its validation (a DRAFT approved
 * later, a job QUEUED for quota) must send Vertex AI tunedrop's pinned copy of the generation that
 * was validated, never the user's object as it is at start time. Also: a manifest path that leaves
 * its folder, a copy that cannot be made. On the real Firestore and Pub/Sub emulators and the
 * Vertex AI emulator, with a local folder standing in for the bucket.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Firestore } from '@google-cloud/firestore';
import type { PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { approveJob } from '../../functions/api/approve.ts';
import type { ApiDeps } from '../../functions/api/deps.ts';
import type { VertexEmulator } from '../../local/vertex-emulator/index.ts';
import type { ApprovalPolicy } from '../../shared/config/index.ts';
import { createFirestoreRejectionStore, rejectionsCollectionFor, startJob } from '../../shared/jobs/index.ts';
import type { TuningProvider } from '../../shared/providers/types.ts';
import { BlobAccessError, type BlobStore, createLocalBlobStore } from '../../shared/storage/index.ts';
import {
  asJob,
  createIngestHarness,
  emulatorJobsFor,
  type IngestHarness,
  putObject,
  readIngestReport,
  receiveEvent as receive,
  reuploadObject,
} from '../support/ingest-harness.ts';
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
  environment = await startIngestEnvironment('tunedrop-ingest-pin-');
  ({ root, firestore, pubsub, emulator, provider } = environment);
});
afterAll(async () => {
  await environment?.stop();
});
beforeEach(() => {
  emulator.faults.reset();
});

const dataset = (count: number, answer: string) =>
  `${Array.from({ length: count }, (_, i) => example(`Question ${i}?`, `${answer} ${i}.`)).join('\n')}\n`;
const validated = dataset(20, 'The validated answer');
const replacement = dataset(30, 'Bytes nobody validated');

function harness(options: { approval?: ApprovalPolicy; blobs?: BlobStore } = {}): Promise<IngestHarness> {
  return createIngestHarness(
    { firestore, pubsub },
    {
      prefix: 'p',
      provider,
      blobs: options.blobs ?? createLocalBlobStore({ root }),
      config: { approval: options.approval ?? { mode: 'auto' } },
    },
  );
}

const put = (name: string, content: string) => putObject(root, name, content);

/** A user's re-upload over `name`: new bytes renamed into place, a later mtime (generation). */
const reupload = (name: string, content: string) => reuploadObject(root, name, content);

const objectOf = (uri: string) => uri.replace(/^gs:\/\/[^/]+\//, '');
const bytesAt = (uri: string) => readFile(join(root, objectOf(uri)), 'utf8');

/** The create request Vertex AI received for the record: its dataset URIs. */
async function vertexRequestFor(jobId: string) {
  const jobs = await emulatorJobsFor(emulator, jobId);
  expect(jobs).toHaveLength(1);
  return (
    jobs[0] as unknown as {
      supervisedTuningSpec: { trainingDatasetUri: string; validationDatasetUri?: string };
    }
  ).supervisedTuningSpec;
}

const readReport = (name: string) => readIngestReport(root, name);

function apiDeps(h: IngestHarness): ApiDeps {
  return {
    // approveJob reads only the project and the start settings of the configuration.
    config: { project } as ApiDeps['config'],
    store: h.store,
    rejections: createFirestoreRejectionStore({
      firestore,
      collection: rejectionsCollectionFor(h.collection),
    }),
    provider,
    publisher: h.publisher,
    blobs: h.blobs,
    logger: h.logs,
    clock: () => new Date(),
  };
}

describe('what Vertex AI trains on', () => {
  it('a DRAFT approved after its upload was replaced trains on the validated generation', async () => {
    const h = await harness({ approval: { mode: 'manual' } });
    const name = `incoming/${h.prefix}.jsonl`;
    await put(name, validated);
    const event = await finalizedEvent(root, name);
    const draft = asJob(await h.handle(event));
    expect(draft.state).toBe('DRAFT');
    const pinned = draft.validation.pinned?.training;
    expect(pinned).toMatchObject({
      uri: `gs://${bucket}/validated/${draft.id}/training/${h.prefix}.jsonl`,
      sourceUri: `gs://${bucket}/${name}`,
      sourceGeneration: (event.data as { generation: string }).generation,
    });
    expect(draft.spec.trainingDatasetUri).toBe(pinned?.uri);

    // After validation, the user replaces the file with bytes nobody validated (a budget bypass).
    await reupload(name, replacement);
    const started = await approveJob(apiDeps(h), draft.id, 'reviewer@example.com');

    expect(started.state).toBe('PENDING');
    const request = await vertexRequestFor(draft.id);
    expect(request.trainingDatasetUri).toBe(pinned?.uri);
    expect(await bytesAt(request.trainingDatasetUri)).toBe(validated);
    expect(await readFile(join(root, name), 'utf8')).toBe(replacement);
    const report = await readReport(name);
    expect(report.datasets.training).toMatchObject({
      uri: `gs://${bucket}/${name}`,
      examples: 20,
      pinned: { uri: pinned?.uri, sourceGeneration: pinned?.sourceGeneration },
    });
    await h.subscription.close();
  });

  it('a job QUEUED for quota and started after its upload was replaced trains on the validated generation', async () => {
    const h = await harness();
    const name = `incoming/${h.prefix}.jsonl`;
    await put(name, validated);
    emulator.faults.set({ rateLimitCreates: 1 });
    const queued = asJob(await h.handle(await finalizedEvent(root, name)));
    expect(queued.state).toBe('QUEUED');
    expect(queued.provider.jobName).toBeUndefined();

    await reupload(name, replacement);
    const later = new Date(Date.parse(queued.nextAttemptTime!) + 1);
    const job = await startJob(
      { store: h.store, provider, publisher: h.publisher, logger: h.logs, now: () => later, project },
      queued.id,
    );

    expect(job.state).toBe('PENDING');
    const request = await vertexRequestFor(queued.id);
    expect(request.trainingDatasetUri).toBe(
      `gs://${bucket}/validated/${queued.id}/training/${h.prefix}.jsonl`,
    );
    expect(await bytesAt(request.trainingDatasetUri)).toBe(validated);
    await h.subscription.close();
  });

  it("pins a manifest's datasets, in its folder and in another bucket, and trains on those copies", async () => {
    const h = await harness({ approval: { mode: 'manual' } });
    const folder = `incoming/${h.prefix}`;
    // The local store maps every bucket to its folder: gs://other-bucket/<path> is <root>/<path>.
    const elsewhere = `${h.prefix}-shared/val.jsonl`;
    const validation = dataset(10, 'Held-out answer');
    await put(`${folder}/train.jsonl`, validated);
    await put(elsewhere, validation);
    await put(
      `${folder}/tuning.json`,
      JSON.stringify({ trainingDataset: 'train.jsonl', validationDataset: `gs://other-bucket/${elsewhere}` }),
    );
    const draft = asJob(await h.handle(await finalizedEvent(root, `${folder}/tuning.json`)));
    expect(draft.state).toBe('DRAFT');
    expect(draft.validation.pinned).toMatchObject({
      training: {
        uri: `gs://${bucket}/validated/${draft.id}/training/train.jsonl`,
        sourceUri: `gs://${bucket}/${folder}/train.jsonl`,
      },
      validation: {
        uri: `gs://${bucket}/validated/${draft.id}/validation/val.jsonl`,
        sourceUri: `gs://other-bucket/${elsewhere}`,
      },
    });

    await reupload(`${folder}/train.jsonl`, replacement);
    await reupload(elsewhere, replacement);
    const started = await approveJob(apiDeps(h), draft.id, 'reviewer@example.com');

    expect(started.state).toBe('PENDING');
    const request = await vertexRequestFor(draft.id);
    expect(request).toMatchObject({
      trainingDatasetUri: draft.validation.pinned?.training.uri,
      validationDatasetUri: draft.validation.pinned?.validation?.uri,
    });
    expect(await bytesAt(request.trainingDatasetUri)).toBe(validated);
    expect(await bytesAt(request.validationDatasetUri!)).toBe(validation);
    await h.subscription.close();
  });

  it('reuses the copy an earlier delivery pinned when the event is redelivered after a re-upload', async () => {
    const h = await harness({ approval: { mode: 'manual' } });
    const folder = `incoming/${h.prefix}`;
    await put(`${folder}/train.jsonl`, validated);
    await put(`${folder}/tuning.json`, JSON.stringify({ trainingDataset: 'train.jsonl' }));
    const event = await finalizedEvent(root, `${folder}/tuning.json`);
    const first = asJob(await h.handle(event));
    const pinned = first.validation.pinned?.training;
    // The record is lost (e.g. the first delivery died before creating it), the dataset replaced.
    await firestore.collection(h.collection).doc(first.id).delete();
    await reupload(`${folder}/train.jsonl`, replacement);

    const again = asJob(await h.handle(structuredClone(event)));

    expect(again.validation.pinned?.training).toEqual(pinned);
    expect(again.validation.examples).toBe(20);
    expect(await bytesAt(again.spec.trainingDatasetUri)).toBe(validated);
    expect((await readReport(`${folder}/tuning.json`)).notes).toContainEqual(
      expect.stringMatching(/^trainingDataset: validated generation \d+ of .*, pinned by an earlier attempt/),
    );
    await h.subscription.close();
  });

  it('ignores the pinned copies themselves: they never trigger work', async () => {
    const h = await harness();
    const name = `incoming/${h.prefix}.jsonl`;
    await put(name, validated);
    const job = asJob(await h.handle(await finalizedEvent(root, name)));
    const copy = objectOf(job.spec.trainingDatasetUri);

    const outcome = await h.handle(await finalizedEvent(root, copy));

    expect(outcome).toEqual({
      outcome: 'ignored',
      reason: "tunedrop's pinned copy of a validated dataset (validated/)",
    });
    expect((await h.store.list()).jobs.map((record) => record.id)).toEqual([job.id]);
    await h.subscription.close();
  });
});

describe('datasets that cannot be pinned or may not be named', () => {
  it("rejects a manifest path that leaves the manifest's folder, with the reason", async () => {
    const h = await harness();
    const folder = `incoming/${h.prefix}`;
    await put(`other/${h.prefix}.jsonl`, validated);
    await put(`${folder}/tuning.json`, JSON.stringify({ trainingDataset: `../../other/${h.prefix}.jsonl` }));
    const rejected = receive(h.subscription, 'tunedrop.v1.dataset.rejected');

    const outcome = await h.handle(await finalizedEvent(root, `${folder}/tuning.json`));

    expect(outcome).toMatchObject({ outcome: 'rejected', errorCount: 1 });
    const problem = `/trainingDataset: ../../other/${h.prefix}.jsonl points outside the manifest's folder ${folder}/ (it resolves to other/${h.prefix}.jsonl): name a file inside that folder, or a dataset elsewhere by its full gs://BUCKET/OBJECT URI`;
    expect((await readReport(`${folder}/tuning.json`)).problems).toEqual([problem]);
    const event = await rejected;
    expect((event.data as { errors: { field?: string; message: string }[] }).errors).toEqual([
      expect.objectContaining({
        field: '/trainingDataset',
        message: problem.slice('/trainingDataset: '.length),
      }),
    ]);
    expect((await h.store.list()).jobs).toEqual([]);
    await h.subscription.close();
  });

  it('starts no job when the copy is refused for good (403), and says why in the report and the event', async () => {
    const local = createLocalBlobStore({ root });
    const h = await harness({
      blobs: {
        ...local,
        copy: async (source, destination) => {
          throw new BlobAccessError(
            `gs://${destination.bucket}/${destination.name}: permission denied`,
            403,
            source.bucket,
            source.name,
          );
        },
      },
    });
    const name = `incoming/${h.prefix}.jsonl`;
    await put(name, validated);
    const rejected = receive(h.subscription, 'tunedrop.v1.dataset.rejected');
    emulator.resetStats();

    const outcome = await h.handle(await finalizedEvent(root, name));

    expect(outcome).toMatchObject({ outcome: 'rejected', errorCount: 1 });
    const [problem] = (await readReport(name)).problems;
    expect(problem).toMatch(
      new RegExp(
        `^/: gs://${bucket}/${name} could not be pinned \\(copied to validated/\\), so it cannot be trained on: .*\\(403\\)`,
      ),
    );
    expect(((await rejected).data as { errors: { message: string }[] }).errors[0]?.message).toMatch(
      /could not be pinned/,
    );
    expect((await h.store.list()).jobs).toEqual([]);
    expect(emulator.stats().create).toBe(0);
    await h.subscription.close();
  });
});
