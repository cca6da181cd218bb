/**
 * A running admin API on the real emulators, for the API and CLI integration tests: Firestore
 * (a fresh collection), Pub/Sub (a fresh topic with a subscription to read what was published),
 * the Vertex AI emulator, and a temp folder standing in for the bucket, with the sample dataset.
 */
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PubSub, type Subscription } from '@google-cloud/pubsub';
import { createApiHandler } from '../../functions/api/index.ts';
import { startVertexEmulator, type VertexEmulator } from '../../local/vertex-emulator/index.ts';
import { type Config, loadConfig } from '../../shared/config/index.ts';
import { createPubSubPublisher, type EventPublisher, withCreationEvent } from '../../shared/events/index.ts';
import {
  createFirestore,
  createFirestoreJobStore,
  createFirestoreRejectionStore,
  JobRecord,
  type JobState,
  type JobStore,
  type RejectionStore,
  rejectionsCollectionFor,
} from '../../shared/jobs/index.ts';
import { createMemoryLogger } from '../../shared/logging/index.ts';
import { createVertexProvider, type TuningProvider } from '../../shared/providers/index.ts';
import { type BlobStore, createLocalBlobStore } from '../../shared/storage/index.ts';
import { uniqueName } from '../support/names.ts';

export const bucket = 'tunedrop-test-bucket';
export const datasetObject = 'incoming/support-answers.jsonl';

export interface ApiStack {
  url: string;
  config: Config;
  store: JobStore;
  rejections: RejectionStore;
  blobs: BlobStore;
  provider: TuningProvider;
  publisher: EventPublisher;
  vertex: VertexEmulator;
  bucketDir: string;
  /** The generation of the sample dataset every fixture job points at (approve checks it). */
  datasetGeneration: string;
  subscription: Subscription;
  /** Messages received on the test subscription so far: event id and Pub/Sub attributes. */
  received: { id: string; type: string; replay?: boolean; attributes: Record<string, string> }[];
  /** Waits until `count` messages with these ids arrived (no timing assertions: the test timeout bounds it). */
  waitForMessages(predicate: (received: ApiStack['received']) => boolean): Promise<void>;
  close(): Promise<void>;
}

export async function startApiStack(options: { jobSeconds?: number } = {}): Promise<ApiStack> {
  const project = process.env.GOOGLE_CLOUD_PROJECT ?? 'tunedrop-test';
  const bucketDir = await mkdtemp(join(tmpdir(), 'tunedrop-api-'));
  await mkdir(join(bucketDir, 'incoming'), { recursive: true });
  await copyFile(
    new URL('../../local/sample/support-answers.jsonl', import.meta.url),
    join(bucketDir, datasetObject),
  );

  const vertex = await startVertexEmulator({ port: 0, jobSeconds: options.jobSeconds ?? 30, bucketDir });
  const topicName = uniqueName('api-events');
  const config = loadConfig({
    GOOGLE_CLOUD_PROJECT: project,
    TUNEDROP_BUCKET: bucket,
    TUNEDROP_BUCKET_DIR: bucketDir,
    TUNEDROP_VERTEX_ENDPOINT: vertex.url,
    TUNEDROP_EVENTS_TOPIC: topicName,
    TUNEDROP_JOBS_COLLECTION: uniqueName('api-jobs'),
    // Many fixture jobs are PENDING or RUNNING at once; approvals here must not wait for a slot.
    TUNEDROP_MAX_CONCURRENT_JOBS: '1000',
  });
  const logger = createMemoryLogger('api-test');
  (globalThis as { apiTestLogs?: unknown }).apiTestLogs = logger.entries;
  const firestore = createFirestore({ project });
  const store = createFirestoreJobStore({ firestore, collection: config.jobsCollection });
  const rejections = createFirestoreRejectionStore({
    firestore,
    collection: rejectionsCollectionFor(config.jobsCollection),
  });
  const pubsub = new PubSub({ projectId: project });
  const [topic] = await pubsub.createTopic(topicName);
  const [subscription] = await topic.createSubscription(uniqueName('api-sub'));
  const received: ApiStack['received'] = [];
  const waiters = new Set<() => void>();
  subscription.on('message', (message) => {
    message.ack();
    const event = JSON.parse(message.data.toString()) as { id: string; type: string; replay?: boolean };
    received.push({
      id: event.id,
      type: event.type,
      replay: event.replay,
      attributes: { ...message.attributes },
    });
    for (const wake of waiters) wake();
  });
  const publisher = createPubSubPublisher({ pubsub, topic: topicName, logger });
  const provider = createVertexProvider({ project, region: config.region, endpoint: vertex.url, logger });
  const blobs = createLocalBlobStore({ root: bucketDir });
  const datasetGeneration = (await blobs.stat(bucket, datasetObject))?.generation;
  if (!datasetGeneration) throw new Error(`no ${datasetObject} in ${bucketDir}`);

  const handler = createApiHandler({
    config,
    store,
    rejections,
    provider,
    publisher,
    blobs,
    logger,
    clock: () => new Date(),
  });
  const server: Server = createServer((request, response) => {
    void handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    config,
    store,
    rejections,
    blobs,
    provider,
    publisher,
    vertex,
    bucketDir,
    datasetGeneration,
    subscription,
    received,
    waitForMessages(predicate) {
      return new Promise((resolve) => {
        const check = () => {
          if (predicate(received)) {
            waiters.delete(check);
            resolve();
          }
        };
        waiters.add(check);
        check();
      });
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await subscription.close();
      await pubsub.close();
      await firestore.terminate();
      await vertex.close();
      await rm(bucketDir, { recursive: true, force: true });
    },
  };
}

export interface FixtureOptions {
  state?: JobState;
  labels?: Record<string, string>;
  createTime?: string;
  jobName?: string;
  createIntentTime?: string;
}

/** A record as ingest would have made it (DRAFT by default, with its job.drafted outbox event). */
export function makeJob(stack: ApiStack, id: string, options: FixtureOptions = {}): JobRecord {
  const state = options.state ?? 'DRAFT';
  const time = options.createTime ?? new Date().toISOString();
  const job = JobRecord.parse({
    id,
    state,
    createTime: time,
    updateTime: time,
    stateTime: time,
    source: { bucket, object: datasetObject, generation: stack.datasetGeneration, manifest: false },
    spec: {
      baseModel: 'gemini-2.5-flash',
      trainingDatasetUri: `gs://${bucket}/${datasetObject}`,
      labels: options.labels ?? {},
    },
    approval: { policy: { mode: 'manual' }, required: state === 'DRAFT' },
    validation: { reportUri: `gs://${bucket}/reports/incoming/${id}.jsonl.report.json`, examples: 20 },
    estimate: {
      billableTokens: 12000,
      epochs: 3,
      usdPerMillionTokens: 5,
      costUsd: 0.18,
      method: 'heuristic',
      priceDate: '2025-01-01',
    },
    provider: {
      name: 'vertex',
      ...(options.jobName ? { jobName: options.jobName } : {}),
      ...(options.createIntentTime ? { createIntentTime: options.createIntentTime } : {}),
    },
    ...(state === 'SUCCEEDED' ? { result: { tunedModel: 'projects/p/locations/l/models/m' } } : {}),
    history: [{ state, time }],
  });
  // Only a DRAFT is born with an event here; other states stand for records already past theirs.
  return state === 'DRAFT'
    ? withCreationEvent(job, { now: new Date(time), project: stack.config.project })
    : job;
}

export async function createJob(
  stack: ApiStack,
  id: string,
  options: FixtureOptions = {},
): Promise<JobRecord> {
  const { job } = await stack.store.create(makeJob(stack, id, options));
  return job;
}
