/**
 * The poller on the real emulators: Firestore and Pub/Sub from the global setup, the Vertex AI
 * emulator on a free port with the same hand-moved clock as the poller, so a job's lifecycle is
 * stepped through without sleeping. Events are received from a real Pub/Sub subscription.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Firestore } from '@google-cloud/firestore';
import { type Message, PubSub } from '@google-cloud/pubsub';
import {
  type PollDeps,
  type PollResult,
  type PollSummary,
  pollJobs,
} from '../../functions/poll-jobs/index.ts';
import { noLease } from '../../functions/poll-jobs/lease.ts';
import {
  type ListFilterMode,
  startVertexEmulator,
  type VertexEmulator,
} from '../../local/vertex-emulator/index.ts';
import { type CloudEvent, createPubSubPublisher, type EventPublisher } from '../../shared/events/index.ts';
import {
  createFirestore,
  createFirestoreJobStore,
  type JobRecord,
  type JobStore,
} from '../../shared/jobs/index.ts';
import { createMemoryLogger } from '../../shared/logging/index.ts';
import {
  createListModeMemory,
  createVertexProvider,
  type VertexProvider,
} from '../../shared/providers/index.ts';
import { uniqueName } from '../support/names.ts';
import { manualClock, pollConfig, recordIn } from '../unit/poll-jobs/fixtures.ts';

export const project = process.env.GOOGLE_CLOUD_PROJECT ?? 'tunedrop-test';
/** Vertex emulator timeline for this many seconds: PENDING 0–20 s, RUNNING 20–100 s, SUCCEEDED at 100 s. */
export const jobSeconds = 100;
export const trainingDatasetUri = 'gs://tunedrop-test/incoming/train.jsonl';

export interface World {
  firestore: Firestore;
  pubsub: PubSub;
  emulator: VertexEmulator;
  provider: VertexProvider;
  clock: ReturnType<typeof manualClock>;
  /** The folder standing in for the bucket (`gs://tunedrop-test/` maps to it). */
  bucketDir: string;
  close(): Promise<void>;
}

export interface WorldOptions {
  /** How much of a list filter the Vertex emulator honours (`--list-filter`). */
  listFilter?: ListFilterMode;
  /** Stands between the client and the emulator (e.g. a proxy that refuses every list). */
  fetch?: typeof globalThis.fetch;
}

export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const bucketDir = await mkdtemp(path.join(tmpdir(), 'tunedrop-poll-'));
  await mkdir(path.join(bucketDir, 'incoming'), { recursive: true });
  const lines = Array.from({ length: 20 }, (_, i) =>
    JSON.stringify({
      contents: [
        { role: 'user', parts: [{ text: `Question ${i}?` }] },
        { role: 'model', parts: [{ text: `Answer ${i}.` }] },
      ],
    }),
  );
  await writeFile(path.join(bucketDir, 'incoming/train.jsonl'), `${lines.join('\n')}\n`);
  const clock = manualClock(new Date());
  const emulator = await startVertexEmulator({
    port: 0,
    jobSeconds,
    bucketDir,
    now: clock.ms,
    ...(options.listFilter ? { listFilter: options.listFilter } : {}),
  });
  const provider = createVertexProvider({
    project,
    region: 'us-central1',
    endpoint: emulator.url,
    retry: { attempts: 1 },
    // Its own list fallback memory: the process-wide one would carry over between worlds.
    listModes: createListModeMemory(),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const firestore = createFirestore({ project });
  const pubsub = new PubSub({ projectId: project });
  return {
    firestore,
    pubsub,
    emulator,
    provider,
    clock,
    bucketDir,
    async close() {
      try {
        await emulator.close();
        await firestore.terminate();
        await pubsub.close();
      } finally {
        await rm(bucketDir, { recursive: true, force: true });
      }
    },
  };
}

export interface Harness {
  store: JobStore;
  /** The Firestore collection behind `store`. */
  collection: string;
  logger: ReturnType<typeof createMemoryLogger>;
  /** Every event received on the test's subscription, in order of arrival. */
  received: CloudEvent[];
  /** Event ids the publisher had accepted by Pub/Sub, one entry per accepted publish. */
  published: string[];
  /** While true the publisher rejects every event (Pub/Sub unreachable). */
  failPublishes(on: boolean): void;
  deps(overrides?: Partial<PollDeps>): PollDeps;
  poll(overrides?: Partial<PollDeps>): Promise<PollResult>;
  /** A poll that must have run (not skipped); returns its summary. */
  run(overrides?: Partial<PollDeps>): Promise<PollSummary>;
  /** A record in PENDING whose Vertex job was created just now, as startJob leaves it. */
  startedJob(): Promise<JobRecord>;
  /** Resolves once `count` events of `type` have arrived (the test timeout bounds the wait). */
  waitFor(type: string, count?: number): Promise<CloudEvent[]>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function harness(world: World): Promise<Harness> {
  const collection = uniqueName('jobs');
  const store = createFirestoreJobStore({ firestore: world.firestore, collection });
  const logger = createMemoryLogger('poll-jobs');
  const topic = uniqueName('events');
  await world.pubsub.createTopic(topic);
  const [subscription] = await world.pubsub
    .topic(topic)
    .createSubscription(uniqueName('sub'), { enableMessageOrdering: true });
  const received: CloudEvent[] = [];
  subscription.on('message', (message: Message) => {
    message.ack();
    received.push(JSON.parse(message.data.toString('utf8')) as CloudEvent);
  });
  const real = createPubSubPublisher({ pubsub: world.pubsub, topic, logger });
  const published: string[] = [];
  let failing = false;
  const publisher: EventPublisher = {
    async publish(event) {
      if (failing) throw new Error(`pubsub unavailable (injected) for ${event.id}`);
      const messageId = await real.publish(event);
      published.push(event.id);
      return messageId;
    },
  };
  const deps = (overrides: Partial<PollDeps> = {}): PollDeps => ({
    config: pollConfig({ project }),
    store,
    provider: world.provider,
    publisher,
    logger,
    clock: world.clock.now,
    lease: noLease,
    backoff: { baseMs: 60_000, maxMs: 60_000 },
    ...overrides,
  });
  const h: Harness = {
    store,
    collection,
    logger,
    received,
    published,
    failPublishes(on) {
      failing = on;
    },
    deps,
    poll: (overrides) => pollJobs(deps(overrides)),
    async run(overrides) {
      const result = await pollJobs(deps(overrides));
      if ('skipped' in result) throw new Error(`poll skipped: ${result.skipped}`);
      return result;
    },
    async startedJob() {
      const draft = recordIn('PENDING', { time: world.clock.now(), trainingDatasetUri });
      const created = await world.provider.createJob(draft.spec, draft.id);
      const record = {
        ...draft,
        provider: { ...draft.provider, jobName: created.name, createIntentTime: draft.createTime },
      };
      await store.create(record);
      return record;
    },
    async waitFor(type, count = 1) {
      for (;;) {
        const matching = received.filter((event) => event.type === type);
        if (matching.length >= count) return matching;
        await sleep(50);
      }
    },
    async close() {
      await subscription.close();
    },
  };
  return h;
}

/** Gives late duplicates a chance to arrive before counting (never a timed assertion). */
export const settle = () => sleep(500);

export const countOf = (events: CloudEvent[], type: string, subject?: string) =>
  events.filter((event) => event.type === type && (subject === undefined || event.subject === subject))
    .length;
