/**
 * A quota burst, driven through the real pipeline: N datasets land in the bucket folder at once,
 * ingest-dataset handles all N finalized events concurrently, and poll-jobs runs on its schedule
 * until every job has ended. Vertex AI is the emulator with a concurrent tuning jobs quota
 * (`maxRunning`); Firestore and Pub/Sub are the real emulators (FIRESTORE_EMULATOR_HOST,
 * PUBSUB_EMULATOR_HOST). Time is a hand-moved clock shared by ingest, the poller and the Vertex
 * emulator, so a burst of 10-minute jobs polled every minute drains in seconds of wall time and
 * the result does not depend on the machine's speed.
 *
 * Used by test/integration/quota-burst.test.ts and by `npm run bench -- burst`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Firestore } from '@google-cloud/firestore';
import type { PubSub } from '@google-cloud/pubsub';
import { createIngestHandler } from '../../functions/ingest-dataset/index.ts';
import { noLease, pollJobs } from '../../functions/poll-jobs/index.ts';
import { defaultPollSettings } from '../../functions/poll-jobs/poll.ts';
import { type RequestStats, startVertexEmulator } from '../../local/vertex-emulator/index.ts';
import { createPubSubPublisher } from '../../shared/events/index.ts';
import {
  createFirestoreJobStore,
  isTerminal,
  type JobRecord,
  type JobStore,
} from '../../shared/jobs/index.ts';
import { createMemoryLogger } from '../../shared/logging/index.ts';
import { createVertexProvider } from '../../shared/providers/index.ts';
import { createLocalBlobStore } from '../../shared/storage/index.ts';

export interface BurstOptions {
  firestore: Firestore;
  pubsub: PubSub;
  /** The folder standing in for the bucket (the caller creates and removes it). */
  root: string;
  project: string;
  /** Unique per run: the jobs collection and the events topic are named after it. */
  runId: string;
  datasets: number;
  /** The Vertex emulator's concurrent tuning jobs quota. */
  maxRunning: number;
  /** tunedrop's own cap (TUNEDROP_MAX_CONCURRENT_JOBS); 4 as deployed by default. */
  maxConcurrentJobs?: number;
  /** Emulated job length and the scheduler's period, in (simulated) seconds. */
  jobSeconds?: number;
  pollSeconds?: number;
  baseModel?: string;
}

export interface BurstResult {
  records: JobRecord[];
  /** Jobs the Vertex emulator holds (created, whatever their state). */
  vertexJobs: number;
  vertexCalls: RequestStats;
  /** Calls of each job-store operation (each one or more Firestore reads, writes or queries). */
  storeOps: Record<string, number>;
  polls: number;
  /** Simulated time from the drop until the last job ended. */
  drainSeconds: number;
  /** The least any scheduler could do: ceil(datasets / maxRunning) job lengths back to back. */
  idealSeconds: number;
  wallSeconds: number;
  /** Peak of Vertex jobs not yet ended, seen at each poll. */
  peakRunning: number;
}

/** The store with every call counted by operation name. */
function countingStore(store: JobStore, counts: Record<string, number>): JobStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        counts[String(property)] = (counts[String(property)] ?? 0) + 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

const example = (i: number, j: number) =>
  JSON.stringify({
    contents: [
      { role: 'user', parts: [{ text: `Ticket ${i}-${j}: the export button does nothing. What now?` }] },
      { role: 'model', parts: [{ text: `Clear the cache, then export again (case ${i}-${j}).` }] },
    ],
  });

export async function runBurst(options: BurstOptions): Promise<BurstResult> {
  const started = Date.now();
  const jobSeconds = options.jobSeconds ?? 600;
  const pollSeconds = options.pollSeconds ?? 60;
  const maxConcurrentJobs = options.maxConcurrentJobs ?? 4;
  let now = Date.parse('2026-12-03T09:00:00Z');
  const clock = () => new Date(now);
  const dropTime = now;

  const emulator = await startVertexEmulator({
    port: 0,
    jobSeconds,
    bucketDir: options.root,
    maxRunning: options.maxRunning,
    now: () => now,
  });
  const storeOps: Record<string, number> = {};
  try {
    const logger = createMemoryLogger('burst');
    const plainStore = createFirestoreJobStore({
      firestore: options.firestore,
      collection: `${options.runId}-jobs`,
    });
    // The functions' store is counted; the burst's own look at the records is not.
    const store = countingStore(plainStore, storeOps);
    const allRecords = async () => {
      const out: JobRecord[] = [];
      let pageToken: string | undefined;
      do {
        const page = await plainStore.list({ limit: 500, ...(pageToken ? { pageToken } : {}) });
        out.push(...page.jobs);
        pageToken = page.nextPageToken;
      } while (pageToken);
      return out;
    };
    const topic = `${options.runId}-events`;
    await options.pubsub.createTopic(topic);
    const publisher = createPubSubPublisher({ pubsub: options.pubsub, topic, logger });
    const provider = createVertexProvider({
      project: options.project,
      region: 'us-central1',
      endpoint: emulator.url,
      retry: { attempts: 1 },
    });
    const config = {
      project: options.project,
      defaults: { baseModel: options.baseModel ?? 'gemini-3.5-flash' },
      approval: { mode: 'auto' as const },
      eventMaxAgeMs: 24 * 60 * 60_000,
      maxConcurrentJobs,
    };
    const handle = createIngestHandler({
      config,
      store,
      provider,
      publisher,
      blobs: createLocalBlobStore({ root: options.root }),
      logger,
      clock,
    });

    // The drop: every dataset written, then every finalized event handled at once.
    const bucket = 'tunedrop-burst';
    const names = Array.from(
      { length: options.datasets },
      (_, i) => `incoming/${options.runId}/ds-${i}.jsonl`,
    );
    await Promise.all(
      names.map(async (name, i) => {
        const file = path.join(options.root, name);
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(file, `${Array.from({ length: 12 }, (_, j) => example(i, j)).join('\n')}\n`);
      }),
    );
    const blobs = createLocalBlobStore({ root: options.root });
    const events = await Promise.all(
      names.map(async (name, i) => {
        const info = await blobs.stat(bucket, name);
        if (!info) throw new Error(`no ${name}`);
        return {
          specversion: '1.0' as const,
          id: `${options.runId}-ce-${i}`,
          type: 'google.cloud.storage.object.v1.finalized',
          source: `//storage.googleapis.com/projects/_/buckets/${bucket}`,
          subject: `objects/${name}`,
          time: clock().toISOString(),
          data: {
            bucket,
            name,
            generation: info.generation,
            metageneration: '1',
            size: String(info.size),
            contentType: 'application/jsonl',
            timeCreated: info.updateTime,
            updated: info.updateTime,
          },
        };
      }),
    );
    await Promise.all(events.map((event) => handle(event)));

    const pollDeps = {
      config: {
        project: options.project,
        deploymentId: 'bench-burst',
        maxConcurrentJobs,
        stallTimeoutMs: 24 * 60 * 60_000,
        intentGraceMs: defaultPollSettings.intentGraceMs,
        createTimeMarginMs: defaultPollSettings.createTimeMarginMs,
        concurrency: defaultPollSettings.concurrency,
      },
      store,
      provider,
      publisher,
      logger,
      clock,
      lease: noLease,
    };
    let polls = 0;
    let peakRunning = 0;
    let lastEnd = dropTime;
    // Generous: ten times the ideal drain, in scheduler periods.
    const maxPolls =
      Math.ceil((10 * Math.ceil(options.datasets / options.maxRunning) * jobSeconds) / pollSeconds) + 20;
    for (;;) {
      const records = await allRecords();
      const ended = records.filter((record) => isTerminal(record.state));
      if (records.length >= options.datasets && ended.length === records.length) {
        for (const record of ended) lastEnd = Math.max(lastEnd, Date.parse(record.stateTime));
        break;
      }
      if (polls >= maxPolls) throw new Error(`the burst did not drain in ${polls} polls`);
      now += pollSeconds * 1000;
      await pollJobs(pollDeps);
      polls++;
      const vertex = await emulator.jobs();
      peakRunning = Math.max(
        peakRunning,
        vertex.filter((job) => !/SUCCEEDED|FAILED|CANCELLED/.test(job.state)).length,
      );
    }
    const records = await allRecords();
    return {
      records,
      vertexJobs: (await emulator.jobs()).length,
      vertexCalls: emulator.stats(),
      storeOps,
      polls,
      drainSeconds: (lastEnd - dropTime) / 1000,
      idealSeconds: Math.ceil(options.datasets / options.maxRunning) * jobSeconds,
      wallSeconds: (Date.now() - started) / 1000,
      peakRunning,
    };
  } finally {
    await emulator.close();
  }
}
