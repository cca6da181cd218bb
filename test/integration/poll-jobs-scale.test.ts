import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord } from '../../shared/jobs/index.ts';
import type { ProviderJob } from '../../shared/providers/index.ts';
import { recordIn } from '../unit/poll-jobs/fixtures.ts';
import { type Harness, harness, startWorld, trainingDatasetUri, type World } from './poll-jobs-support.ts';

let world: World;
let h: Harness;

beforeAll(async () => {
  world = await startWorld();
  h = await harness(world);
});
afterAll(async () => {
  await h.close();
  await world.close();
});

/** Runs `work` over `items` with at most `limit` in flight. */
async function inParallel<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

/** Vertex jobs created now, in the emulator, each labelled with a fresh record id. */
async function createVertexJobs(count: number): Promise<{ record: JobRecord; created: ProviderJob }[]> {
  return inParallel(Array.from({ length: count }), 50, async () => {
    const record = recordIn('PENDING', { time: world.clock.now(), trainingDatasetUri });
    const created = await world.provider.createJob(record.spec, record.id);
    return { record: { ...record, provider: { ...record.provider, jobName: created.name } }, created };
  });
}

describe('poll-jobs at scale', () => {
  it('refreshes 2,000 active jobs with at most 25 Vertex AI calls', async () => {
    // Finished jobs from long ago (their records are terminal): the create_time filter skips them.
    await createVertexJobs(300);
    world.clock.advance(2 * 60 * 60_000);

    const early = await createVertexJobs(100);
    world.clock.advance(10_000);
    const late = await createVertexJobs(1900);
    const records = [...early, ...late].map(({ record }) => record);

    // Records as the store writes them (plus its derived query fields), in bulk.
    const writer = world.firestore.bulkWriter();
    const collection = world.firestore.collection(h.collection);
    for (const record of records) {
      void writer.set(collection.doc(record.id), {
        ...JSON.parse(JSON.stringify(record)),
        labelPairs: [],
        outboxPending: false,
      });
    }
    await writer.close();
    expect(await h.store.listActive()).toHaveLength(2000);

    // 25 s after the first batch: those 100 are RUNNING, the other 1,900 still PENDING.
    world.clock.advance(15_000);
    world.emulator.resetStats();
    const summary = await h.run();
    expect(summary).toMatchObject({ refreshed: 2000, transitions: 100, published: 100, errors: 0 });
    expect(summary.vertexCalls).toBeLessThanOrEqual(25);
    const stats = world.emulator.stats();
    expect(stats.total).toBe(summary.vertexCalls);
    expect(stats.get).toBe(0);
    expect(stats.list).toBeLessThanOrEqual(25);
    const running = new Set(early.map(({ record }) => record.id));
    expect(new Set(h.published)).toEqual(new Set([...running].map((id) => `${id}.v1.job.running`)));

    // A run with nothing new: the same few calls, no writes, nothing published.
    world.emulator.resetStats();
    expect(await h.run()).toMatchObject({ refreshed: 2000, transitions: 0, published: 0 });
    expect(world.emulator.stats().total).toBeLessThanOrEqual(25);
  });
});
