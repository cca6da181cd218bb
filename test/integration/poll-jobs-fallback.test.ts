/**
 * The poller when Vertex refuses its list filter: the Vertex AI emulator honours only part of
 * `filter` (`--list-filter state-only|none`), or a proxy in front of it refuses every list, and
 * jobs are still followed to their end with a bounded number of calls per run.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { jobIdLabel } from '../../shared/jobs/index.ts';
import { pollConfig, recordIn } from '../unit/poll-jobs/fixtures.ts';
import {
  type Harness,
  harness,
  jobSeconds,
  project,
  settle,
  startWorld,
  trainingDatasetUri,
  type World,
  type WorldOptions,
} from './poll-jobs-support.ts';

let world: World | undefined;
let h: Harness | undefined;

async function setUp(options: WorldOptions) {
  world = await startWorld(options);
  h = await harness(world);
  return { world, h };
}

afterEach(async () => {
  await h?.close();
  await world?.close();
  h = undefined;
  world = undefined;
});

const seconds = (n: number) => n * 1000;

/** A fetch that answers every tuningJobs.list with 400 INVALID_ARGUMENT, filtered or not. */
const refuseEveryList: typeof globalThis.fetch = async (input, init) => {
  const url = new URL(String(input instanceof Request ? input.url : input));
  if ((init?.method ?? 'GET') === 'GET' && url.pathname.endsWith('/tuningJobs')) {
    return new Response(
      JSON.stringify({
        error: { code: 400, message: 'Request contains an invalid argument.', status: 'INVALID_ARGUMENT' },
      }),
      { status: 400, headers: { 'content-type': 'application/json' } },
    );
  }
  return globalThis.fetch(input, init);
};

describe('poll-jobs when Vertex refuses the list filter', () => {
  it('falls back from the label filter to a state-only filter and follows a job to SUCCEEDED with its checkpoints and data stats', async () => {
    const { world, h } = await setUp({ listFilter: 'state-only' });
    const job = await h.startedJob();

    world.emulator.resetStats();
    world.clock.advance(seconds(30));
    // First run: the label filter is refused (1 call), the state filter lists the running job (1 call).
    expect(await h.run()).toMatchObject({ listMode: 'state', refreshed: 1, transitions: 1, vertexCalls: 2 });
    expect(world.emulator.stats()).toMatchObject({ list: 2, get: 0 });
    // Logged once for the process, not once per run.
    world.clock.advance(seconds(10));
    expect(await h.run()).toMatchObject({ listMode: 'state', vertexCalls: 1 });

    world.clock.advance(seconds(jobSeconds));
    // The finished job is no longer in the state-filtered list: it is fetched by name.
    world.emulator.resetStats();
    expect(await h.run()).toMatchObject({ listMode: 'state', transitions: 1, vertexCalls: 2, errors: 0 });
    expect(world.emulator.stats()).toMatchObject({ list: 1, get: 1 });

    const [succeeded] = await h.waitFor('tunedrop.v1.job.succeeded');
    const data = succeeded?.data as {
      result: { checkpoints: { checkpointId: string; epoch: number; step: number }[] };
      tuningDataStats: { tuningDatasetExampleCount: number; tuningStepCount: number };
    };
    // The fixture record asks for 2 epochs: one checkpoint per epoch.
    expect(data.result.checkpoints.map((checkpoint) => checkpoint.epoch)).toEqual([1, 2]);
    expect(data.tuningDataStats.tuningDatasetExampleCount).toBe(20);
    expect(data.tuningDataStats.tuningStepCount).toBeGreaterThan(0);
    const stored = await h.store.get(job.id);
    expect(stored?.state).toBe('SUCCEEDED');
  });

  it('falls back to an unfiltered list when no filter is honoured, ignoring jobs tunedrop does not manage', async () => {
    const { world, h } = await setUp({ listFilter: 'none' });
    // Someone else's jobs in the same location.
    const foreign = recordIn('PENDING', { time: world.clock.now(), trainingDatasetUri });
    for (let n = 0; n < 3; n++)
      await fetch(`${world.emulator.url}/v1/${world.provider.parent}/tuningJobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          baseModel: foreign.spec.baseModel,
          supervisedTuningSpec: { trainingDatasetUri },
          labels: { team: 'other' },
        }),
      });
    const job = await h.startedJob();

    world.clock.advance(seconds(30));
    world.emulator.resetStats();
    // Label filter refused, state filter refused, unfiltered list answered: 3 calls once.
    expect(await h.run()).toMatchObject({
      listMode: 'unfiltered',
      refreshed: 1,
      transitions: 1,
      vertexCalls: 3,
    });
    world.clock.advance(seconds(jobSeconds));
    expect(await h.run()).toMatchObject({
      listMode: 'unfiltered',
      transitions: 1,
      vertexCalls: 1,
      errors: 0,
    });
    expect((await h.store.get(job.id))?.state).toBe('SUCCEEDED');
    await h.waitFor('tunedrop.v1.job.succeeded');
  });

  it('fetches jobs by name, within a budget per run, when even the unfiltered list is refused', async () => {
    const { world, h } = await setUp({ fetch: refuseEveryList });
    const jobs = [];
    for (let n = 0; n < 5; n++) jobs.push(await h.startedJob());

    world.clock.advance(seconds(30));
    world.emulator.resetStats();
    const config = pollConfig({ project, maxJobGetsWithoutList: 3 });
    // 3 refused lists (label, state, none), then 3 GETs: the budget, not one per record.
    expect(await h.run({ config })).toMatchObject({ listMode: 'per-job', refreshed: 3, vertexCalls: 6 });
    expect(world.emulator.stats()).toMatchObject({ list: 0, get: 3 });
    // The list is not asked again in this process; the next run fetches the others.
    world.emulator.resetStats();
    expect(await h.run({ config })).toMatchObject({ listMode: 'per-job', vertexCalls: 3 });
    world.clock.advance(seconds(jobSeconds));
    for (let run = 0; run < 3; run++) await h.run({ config });
    const states = await Promise.all(jobs.map(async (job) => (await h.store.get(job.id))?.state));
    expect(states).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
  });

  it('adopts the job of an interrupted start by scanning the unfiltered list, creating none', async () => {
    const { world, h } = await setUp({ listFilter: 'none' });
    const record = recordIn('QUEUED', {
      time: world.clock.now(),
      trainingDatasetUri,
      createIntentTime: world.clock.now().toISOString(),
      attempts: 1,
    });
    await h.store.create(record);
    const created = await world.provider.createJob(record.spec, record.id);

    world.clock.advance(seconds(11 * 60));
    // The lookup's label filter is refused; it scans the unfiltered list (a state filter cannot
    // prove a finished job absent). The poller's own listing steps down as far as it must: this
    // emulator honours no filter at all, so to `state` and, once that is refused too, `unfiltered`.
    const summary = await h.run();
    expect(summary).toMatchObject({ started: 1, errors: 0 });
    expect(['state', 'unfiltered']).toContain(summary.listMode);
    expect((await h.store.get(record.id))?.provider.jobName).toBe(created.name);
    const labelled = (await world.emulator.jobs()).filter(
      (job) => (job.labels as Record<string, string>)[jobIdLabel] === record.id,
    );
    expect(labelled).toHaveLength(1);
  });

  it('gives up on an interrupted start it cannot look up after a bounded number of attempts: job.stalled with the reason', async () => {
    const { world, h } = await setUp({ fetch: refuseEveryList });
    const record = recordIn('QUEUED', {
      time: world.clock.now(),
      trainingDatasetUri,
      createIntentTime: world.clock.now().toISOString(),
      attempts: 1,
    });
    await h.store.create(record);
    const config = pollConfig({ project, maxRecoveryAttempts: 3 });
    // Each attempt backs off (60 s here); each counts.
    let lastSummary: Awaited<ReturnType<Harness['run']>> | undefined;
    for (let attempt = 1; attempt <= 3; attempt++) {
      world.clock.advance(seconds(11 * 60));
      lastSummary = await h.run({ config });
      expect((await h.store.get(record.id))?.recovery?.attempts).toBe(attempt);
    }
    expect(lastSummary).toMatchObject({ gaveUp: 1, stalled: 1 });
    const [stalled] = await h.waitFor('tunedrop.v1.job.stalled');
    expect((stalled?.data as { reason?: string } | undefined)?.reason).toMatch(
      /could not be reconciled with the provider after 3 attempts; no longer retried: .*tuningJobs\.list/,
    );
    // No retry forever: later runs leave it alone (no lookup, no create) and send nothing more.
    world.emulator.resetStats();
    world.clock.advance(seconds(60 * 60));
    await h.run({ config });
    expect(world.emulator.stats()).toMatchObject({ create: 0, total: 0 });
    await settle();
    expect(h.received.filter((event) => event.type === 'tunedrop.v1.job.stalled')).toHaveLength(1);
    expect((await h.store.get(record.id))?.state).toBe('QUEUED');
  });

  it('keeps the calls of a run bounded with many jobs when only an unfiltered list works', async () => {
    const { world, h } = await setUp({ listFilter: 'none' });
    for (let n = 0; n < 30; n++) await h.startedJob();
    world.clock.advance(seconds(30));
    await h.run({ config: pollConfig({ project, pageSize: 10 }) });
    world.emulator.resetStats();
    const summary = await h.run({ config: pollConfig({ project, pageSize: 10 }) });
    // 30 jobs in pages of 10: 3 pages; no per-job fetches.
    expect(summary).toMatchObject({ listMode: 'unfiltered', refreshed: 30, vertexCalls: 3, errors: 0 });
    expect(world.emulator.stats()).toMatchObject({ list: 3, get: 0 });
  });

  it('carries Vertex’s own figures to job.succeeded: the examples it dropped, why, and the checkpoints', async () => {
    const { world, h } = await setUp({});
    // 20 short examples and one over gemini-2.5-flash's 131,072-token limit (the emulator counts
    // about four characters a token): Vertex drops it (under 10%) and tunes on the rest.
    const long = JSON.stringify({
      contents: [
        { role: 'user', parts: [{ text: 'x'.repeat(600_000) }] },
        { role: 'model', parts: [{ text: 'ok' }] },
      ],
    });
    const lines = Array.from({ length: 20 }, (_, i) =>
      JSON.stringify({
        contents: [
          { role: 'user', parts: [{ text: `Question ${i}?` }] },
          { role: 'model', parts: [{ text: `Answer ${i}.` }] },
        ],
      }),
    );
    const uri = 'gs://tunedrop-test/incoming/with-drop.jsonl';
    await writeFile(join(world.bucketDir, 'incoming/with-drop.jsonl'), `${[...lines, long].join('\n')}\n`);
    const record = recordIn('PENDING', { time: world.clock.now(), trainingDatasetUri: uri });
    const created = await world.provider.createJob(record.spec, record.id);
    await h.store.create({ ...record, provider: { ...record.provider, jobName: created.name } });

    world.clock.advance(seconds(jobSeconds + 1));
    expect(await h.run()).toMatchObject({ listMode: 'labels', transitions: 1, errors: 0 });
    const [succeeded] = await h.waitFor('tunedrop.v1.job.succeeded');
    const data = succeeded?.data as {
      result: { checkpoints: { checkpointId: string; epoch: number; step: number; endpoint?: string }[] };
      tuningDataStats: {
        tuningDatasetExampleCount: number;
        totalTruncatedExampleCount: number;
        truncatedExampleIndices: number[];
        droppedExampleReasons: string[];
      };
    };
    expect(data.tuningDataStats).toMatchObject({
      totalTruncatedExampleCount: 1,
      truncatedExampleIndices: [21],
    });
    expect(data.tuningDataStats.droppedExampleReasons[0]).toMatch(/more than the limit of 131072/);
    expect(data.result.checkpoints.map((checkpoint) => checkpoint.epoch)).toEqual([1, 2]);
    expect(data.result.checkpoints.every((checkpoint) => checkpoint.step > 0)).toBe(true);
    // The same figures on the record, which the API's job view (jobs get) shows.
    expect((await h.store.get(record.id))?.tuningDataStats?.totalTruncatedExampleCount).toBe(1);
  });
});
