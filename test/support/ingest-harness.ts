/**
 * The set-up every ingest integration test repeated: an ingest handler wired to a fresh job
 * collection and events topic on the emulators (test/integration/ingest-environment.ts), plus the
 * small helpers around it: put a file in the bucket folder, re-upload it as a newer generation,
 * wait for an event on the topic, read an ingest report. Each harness has its own collection,
 * topic and object prefix, so tests sharing the emulators never see each other's data.
 */
import { mkdir, rename, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Firestore } from '@google-cloud/firestore';
import type { CloudEvent as FrameworkEvent } from '@google-cloud/functions-framework';
import type { Message, PubSub, Subscription } from '@google-cloud/pubsub';
import {
  createIngestHandler,
  type IngestDeps,
  type IngestOutcome,
  type IngestReport,
} from '../../functions/ingest-dataset/index.ts';
import type { VertexEmulator } from '../../local/vertex-emulator/index.ts';
import { type CloudEvent, createPubSubPublisher, type EventPublisher } from '../../shared/events/index.ts';
import {
  createFirestoreJobStore,
  createFirestoreRejectionStore,
  type JobRecord,
  type JobStore,
  jobIdLabel,
  type RejectionStore,
} from '../../shared/jobs/index.ts';
import { createMemoryLogger } from '../../shared/logging/index.ts';
import type { Catalog } from '../../shared/models/index.ts';
import type { TuningProvider } from '../../shared/providers/types.ts';
import { type BlobStore, createLocalBlobStore } from '../../shared/storage/index.ts';
import { bucket, project } from '../integration/ingest-environment.ts';
import { uniqueName } from './names.ts';

export interface IngestHarnessOptions {
  /** What the harness's unique prefix starts with, so a test's objects can be told apart. */
  prefix: string;
  provider: TuningProvider;
  /** The bucket; a function gets the harness's prefix first (to race a named object). */
  blobs: BlobStore | ((prefix: string) => BlobStore);
  /** Merged over what every ingest test starts from: gemini-2.5-flash, auto approval, a day's age. */
  config?: Partial<IngestDeps['config']>;
  catalog?: Catalog;
  /** Record rejected uploads in a collection of their own, as the deployment does. */
  rejections?: boolean;
  clock?: () => Date;
}

export interface IngestHarness {
  store: JobStore;
  /** The job collection of `store`. */
  collection: string;
  /** With `rejections: true` only. */
  rejections?: RejectionStore;
  /** Receives every event the handler publishes. */
  subscription: Subscription;
  publisher: EventPublisher;
  handle: (event: FrameworkEvent<unknown>) => Promise<IngestOutcome | undefined>;
  logs: ReturnType<typeof createMemoryLogger>;
  prefix: string;
  blobs: BlobStore;
}

export async function createIngestHarness(
  environment: { firestore: Firestore; pubsub: PubSub },
  options: IngestHarnessOptions,
): Promise<IngestHarness> {
  const { firestore, pubsub } = environment;
  const topic = uniqueName('events');
  await pubsub.createTopic(topic);
  const [subscription] = await pubsub.topic(topic).createSubscription(uniqueName('sub'));
  const logs = createMemoryLogger('ingest');
  const collection = uniqueName('jobs');
  const store = createFirestoreJobStore({ firestore, collection });
  const rejections = options.rejections
    ? createFirestoreRejectionStore({ firestore, collection: uniqueName('rejected') })
    : undefined;
  const publisher = createPubSubPublisher({ pubsub, topic, logger: logs });
  const prefix = uniqueName(options.prefix);
  const blobs = typeof options.blobs === 'function' ? options.blobs(prefix) : options.blobs;
  const { catalog } = options;
  const handle = createIngestHandler({
    config: {
      project,
      defaults: { baseModel: 'gemini-2.5-flash' },
      approval: { mode: 'auto' },
      eventMaxAgeMs: 24 * 60 * 60_000,
      ...options.config,
    },
    store,
    ...(rejections ? { rejections } : {}),
    provider: options.provider,
    publisher,
    blobs,
    ...(catalog ? { catalog: async () => catalog } : {}),
    logger: logs,
    clock: options.clock ?? (() => new Date()),
  });
  return {
    store,
    collection,
    ...(rejections ? { rejections } : {}),
    subscription,
    publisher,
    handle,
    logs,
    prefix,
    blobs,
  };
}

/** Puts a file in the bucket folder, with custom metadata in its sidecar when given. */
export async function putObject(
  root: string,
  name: string,
  content: string,
  metadata?: Record<string, string>,
): Promise<void> {
  const path = join(root, name);
  await mkdir(dirname(path), { recursive: true });
  if (metadata) await writeFile(`${path}.metadata.json`, JSON.stringify(metadata));
  await writeFile(path, content);
}

/** A user's re-upload over `name`: new bytes renamed into place, a later mtime (generation). */
export async function reuploadObject(root: string, name: string, content: string): Promise<void> {
  const path = join(root, name);
  const temp = `${path}.reupload-tmp`;
  await writeFile(temp, content);
  const later = new Date(Date.now() + 60_000);
  await utimes(temp, later, later);
  await rename(temp, path);
}

/** The report ingest wrote for the object `name`. */
export const readIngestReport = async (root: string, name: string): Promise<IngestReport> =>
  JSON.parse(await createLocalBlobStore({ root }).readText(bucket, `reports/${name}.report.json`));

/** The job an outcome carries; anything else fails the test, saying what came instead. */
export const asJob = (outcome: IngestOutcome | undefined): JobRecord => {
  if (outcome?.outcome !== 'job') throw new Error(`expected a job, got ${JSON.stringify(outcome)}`);
  return outcome.job;
};

/** The Vertex AI emulator's jobs labelled with the record id. */
export const emulatorJobsFor = async (emulator: VertexEmulator, jobId: string) =>
  (await emulator.jobs()).filter(
    (job) => (job.labels as Record<string, string> | undefined)?.[jobIdLabel] === jobId,
  );

/** Resolves with the first message of `type` the subscription delivers (others are acknowledged). */
export function receiveEvent(
  subscription: Subscription,
  type: string,
): Promise<CloudEvent & { attributes: Record<string, string> }> {
  return new Promise((resolve) => {
    const onMessage = (message: Message) => {
      message.ack();
      const event = JSON.parse(message.data.toString('utf8')) as CloudEvent;
      if (event.type !== type) return;
      subscription.off('message', onMessage);
      resolve({ ...event, attributes: message.attributes });
    };
    subscription.on('message', onMessage);
  });
}
