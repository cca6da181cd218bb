/**
 * ingest-dataset validates the generation the event names, not whatever the object holds when it
 * is read: a re-upload landing between ingest's `stat` and its read makes the event stale, and a
 * stale event is acknowledged and logged (the newer upload's own event does the work), never
 * validated with the newer bytes under the older upload's job id. On the real Firestore and
 * Pub/Sub emulators and the Vertex AI emulator, with a local folder standing in for the bucket.
 */
import type { Firestore } from '@google-cloud/firestore';
import type { PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TuningProvider } from '../../shared/providers/types.ts';
import { type BlobStore, createLocalBlobStore } from '../../shared/storage/index.ts';
import {
  createIngestHarness,
  type IngestHarness,
  putObject,
  reuploadObject,
} from '../support/ingest-harness.ts';
import {
  bucket,
  example,
  finalizedEvent,
  type IngestEnvironment,
  startIngestEnvironment,
} from './ingest-environment.ts';

let root: string;
let firestore: Firestore;
let pubsub: PubSub;
let provider: TuningProvider;
let environment: IngestEnvironment | undefined;

beforeAll(async () => {
  environment = await startIngestEnvironment('tunedrop-ingest-gen-');
  ({ root, firestore, pubsub, provider } = environment);
});
afterAll(async () => {
  await environment?.stop();
});

const goodDataset = `${Array.from({ length: 20 }, (_, i) => example(`What is ${i} + 1?`, `${i + 1}.`)).join('\n')}\n`;
const badDataset = 'not json\n';

const put = (name: string, content: string) => putObject(root, name, content);

/** A re-upload: new bytes renamed into place with a later mtime, i.e. a newer generation. */
const reupload = (name: string, content: string) => reuploadObject(root, name, content);

/**
 * The local bucket, with a re-upload of `name` landing right after ingest's stat of it answered:
 * the window in which a read that is not tied to the stat's generation sees other bytes.
 */
function racingBlobs(name: string, content: string): BlobStore {
  const blobs = createLocalBlobStore({ root });
  let raced = false;
  return {
    ...blobs,
    async stat(statBucket, statName) {
      const info = await blobs.stat(statBucket, statName);
      if (statName === name && !raced) {
        raced = true;
        await reupload(name, content);
      }
      return info;
    },
  };
}

const finalized = (name: string) => finalizedEvent(root, name);

function harness(blobs: (prefix: string) => BlobStore): Promise<IngestHarness> {
  return createIngestHarness({ firestore, pubsub }, { prefix: 'g', provider, blobs });
}

const reportExists = async (name: string) =>
  (await createLocalBlobStore({ root }).stat(bucket, `reports/${name}.report.json`)) !== undefined;

describe('ingest-dataset and generations', () => {
  it('acknowledges a single-file event whose object was re-uploaded between stat and read, validating nothing', async () => {
    // The re-upload is invalid: validating it under the first upload's job id would reject that upload.
    const h = await harness((prefix) => racingBlobs(`incoming/${prefix}.jsonl`, badDataset));
    const name = `incoming/${h.prefix}.jsonl`;
    await put(name, goodDataset);

    const outcome = await h.handle(await finalized(name));

    expect(outcome).toMatchObject({ outcome: 'ignored' });
    expect((outcome as { reason: string }).reason).toMatch(
      /^superseded by generation \d+ while it was read$/,
    );
    expect(h.logs.entries.map((entry) => entry.message)).toContainEqual(
      expect.stringMatching(new RegExp(`^ignored ${name}: superseded`)),
    );
    expect(await reportExists(name)).toBe(false);
    expect((await h.store.list()).jobs).toEqual([]);
  });

  it('acknowledges a manifest event whose manifest was replaced between stat and read', async () => {
    const h = await harness((prefix) =>
      racingBlobs(`incoming/${prefix}/tuning.json`, JSON.stringify({ trainingDataset: 'other.jsonl' })),
    );
    const folder = `incoming/${h.prefix}`;
    await put(`${folder}/train.jsonl`, goodDataset);
    await put(`${folder}/tuning.json`, JSON.stringify({ trainingDataset: 'train.jsonl' }));

    const outcome = await h.handle(await finalized(`${folder}/tuning.json`));

    expect(outcome).toMatchObject({ outcome: 'ignored' });
    expect((outcome as { reason: string }).reason).toMatch(/^superseded by generation \d+/);
    expect(await reportExists(`${folder}/tuning.json`)).toBe(false);
    expect((await h.store.list()).jobs).toEqual([]);
  });

  it('still validates and starts the upload the event names when nothing replaced it', async () => {
    const h = await harness(() => createLocalBlobStore({ root }));
    const name = `incoming/${h.prefix}.jsonl`;
    await put(name, goodDataset);

    const outcome = await h.handle(await finalized(name));

    expect(outcome).toMatchObject({ outcome: 'job', created: true });
    expect(await reportExists(name)).toBe(true);
  });
});
