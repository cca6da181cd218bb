import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pollInProgress } from '../../functions/poll-jobs/index.ts';
import { createFirestoreLease } from '../../functions/poll-jobs/lease.ts';
import { jobIdLabel } from '../../shared/jobs/index.ts';
import { uniqueName } from '../support/names.ts';
import { pollConfig, recordIn } from '../unit/poll-jobs/fixtures.ts';
import {
  countOf,
  type Harness,
  harness,
  jobSeconds,
  project,
  settle,
  startWorld,
  trainingDatasetUri,
  type World,
} from './poll-jobs-support.ts';

let world: World;
let h: Harness;

beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => {
  await world.close();
});
beforeEach(async () => {
  world.emulator.reset();
  h = await harness(world);
});
afterEach(async () => {
  await h.close();
});

const seconds = (n: number) => n * 1000;

describe('poll-jobs on the Firestore, Pub/Sub and Vertex AI emulators', () => {
  it('follows a job from PENDING through RUNNING to SUCCEEDED and publishes each event once', async () => {
    const job = await h.startedJob();

    world.clock.advance(seconds(5));
    expect(await h.run()).toMatchObject({ refreshed: 1, transitions: 0, published: 0 });

    world.clock.advance(seconds(25));
    expect(await h.run()).toMatchObject({ refreshed: 1, transitions: 1, published: 1, vertexCalls: 1 });
    expect((await h.store.get(job.id))?.progress?.totalSteps).toBeGreaterThan(0);

    world.clock.advance(seconds(jobSeconds));
    expect(await h.run()).toMatchObject({ refreshed: 1, transitions: 1, published: 1, errors: 0 });

    // Nothing active any more: the run makes no Vertex call at all.
    expect(await h.run()).toMatchObject({ refreshed: 0, transitions: 0, published: 0, vertexCalls: 0 });

    const [succeeded] = await h.waitFor('tunedrop.v1.job.succeeded');
    await settle();
    expect(countOf(h.received, 'tunedrop.v1.job.running', job.id)).toBe(1);
    expect(countOf(h.received, 'tunedrop.v1.job.succeeded', job.id)).toBe(1);
    expect(h.received.map((event) => event.type)).toEqual([
      'tunedrop.v1.job.running',
      'tunedrop.v1.job.succeeded',
    ]);
    const data = succeeded?.data as {
      state: string;
      result: Record<string, string>;
      progress: Record<string, number>;
    };
    expect(data.state).toBe('SUCCEEDED');
    expect(data.result.tunedModel).toMatch(/^projects\/.+\/models\/\d+@1$/);
    expect(data.result.endpoint).toMatch(/^projects\/.+\/endpoints\/\d+$/);
    expect(data.progress.currentStep).toBe(data.progress.totalSteps);

    const stored = await h.store.get(job.id);
    expect(stored?.history.map((entry) => entry.state)).toEqual(['PENDING', 'RUNNING', 'SUCCEEDED']);
    expect(stored?.outbox.every((entry) => entry.publishTime)).toBe(true);
    expect(h.logger.entries.filter((entry) => entry.message === 'poll run finished')).toHaveLength(4);
  });

  it('keeps an event whose publish failed in the outbox and publishes it on the next run with the same id', async () => {
    const job = await h.startedJob();
    world.clock.advance(seconds(30));

    h.failPublishes(true);
    const failed = await h.run();
    expect(failed).toMatchObject({ transitions: 1, published: 0, pending: 1 });
    const pending = (await h.store.get(job.id))?.outbox.filter((entry) => !entry.publishTime) ?? [];
    expect(pending.map((entry) => entry.event.id)).toEqual([`${job.id}.v1.job.running`]);

    h.failPublishes(false);
    const recovered = await h.run();
    expect(recovered).toMatchObject({ transitions: 0, published: 1, pending: 0, errors: 0 });

    const [running] = await h.waitFor('tunedrop.v1.job.running');
    expect(running?.id).toBe(`${job.id}.v1.job.running`);
    expect(running).toEqual(pending[0]?.event);
    await settle();
    expect(h.published).toEqual([`${job.id}.v1.job.running`]);
    expect(h.received).toHaveLength(1);
  });

  it('publishes job.stalled exactly once for a job that stops progressing', async () => {
    world.emulator.faults.set({ stallNextJobs: 1, stallIn: 'RUNNING' });
    const job = await h.startedJob();
    const config = pollConfig({ project, stallTimeoutMs: seconds(60) });

    world.clock.advance(seconds(30));
    expect(await h.run({ config })).toMatchObject({ transitions: 1, stalled: 0 });
    world.clock.advance(seconds(50));
    expect(await h.run({ config })).toMatchObject({ transitions: 0, stalled: 0 });
    world.clock.advance(seconds(20));
    expect(await h.run({ config })).toMatchObject({ transitions: 0, stalled: 1, published: 1 });
    for (let i = 0; i < 3; i++) {
      world.clock.advance(seconds(jobSeconds));
      expect(await h.run({ config })).toMatchObject({ transitions: 0, stalled: 0, published: 0 });
    }

    const [stalled] = await h.waitFor('tunedrop.v1.job.stalled');
    await settle();
    expect(countOf(h.received, 'tunedrop.v1.job.stalled', job.id)).toBe(1);
    expect(stalled?.id).toBe(`${job.id}.v1.job.stalled.running`);
    expect((stalled?.data as { state?: string } | undefined)?.state).toBe('RUNNING');
    expect((await h.store.get(job.id))?.stalledNotified).toBe(true);
  });

  it('follows a cancellation made at Vertex AI through CANCELLING to CANCELLED', async () => {
    const job = await h.startedJob();
    world.clock.advance(seconds(30));
    await h.run();

    await world.provider.cancelJob(job.provider.jobName as string);
    expect(await h.run()).toMatchObject({ transitions: 1, published: 0 });
    expect((await h.store.get(job.id))?.state).toBe('CANCELLING');

    world.clock.advance(seconds(2));
    expect(await h.run()).toMatchObject({ transitions: 1, published: 1 });

    const [cancelled] = await h.waitFor('tunedrop.v1.job.cancelled');
    await settle();
    expect(countOf(h.received, 'tunedrop.v1.job.cancelled', job.id)).toBe(1);
    expect((cancelled?.data as { state?: string } | undefined)?.state).toBe('CANCELLED');
    const stored = await h.store.get(job.id);
    expect(stored?.history.map((entry) => entry.state)).toEqual([
      'PENDING',
      'RUNNING',
      'CANCELLING',
      'CANCELLED',
    ]);
    expect(stored?.provider.state).toBe('JOB_STATE_CANCELLED');
  });

  it('publishes each event once when two runs overlap', async () => {
    const jobs = await Promise.all(Array.from({ length: 12 }, () => h.startedJob()));
    world.clock.advance(seconds(30));

    const [first, second] = await Promise.all([h.run(), h.run()]);
    expect((first?.transitions ?? 0) + (second?.transitions ?? 0)).toBe(jobs.length);

    await h.waitFor('tunedrop.v1.job.running', jobs.length);
    await settle();
    expect(h.received).toHaveLength(jobs.length);
    expect(new Set(h.published).size).toBe(jobs.length);
    expect(h.published).toHaveLength(jobs.length);
    for (const job of jobs) expect(countOf(h.received, 'tunedrop.v1.job.running', job.id)).toBe(1);
  });

  it('skips a run while another holds the lease, and runs again once a crashed holder’s lease expires', async () => {
    await h.startedJob();
    world.clock.advance(seconds(30));
    const collection = uniqueName('locks');
    const lease = () =>
      createFirestoreLease({
        firestore: world.firestore,
        collection,
        name: 'poll-jobs',
        ttlMs: seconds(60),
        clock: world.clock.now,
      });

    // A run that took the lease and died without releasing it.
    expect(await lease().acquire()).toBe(true);
    expect(await h.poll({ lease: lease() })).toEqual({ skipped: pollInProgress });
    expect(world.emulator.stats().list).toBe(0);

    world.clock.advance(seconds(61));
    expect(await h.poll({ lease: lease() })).toMatchObject({ transitions: 1, published: 1 });
    // Released at the end of the run: the next one is not blocked.
    expect(await h.poll({ lease: lease() })).toMatchObject({ transitions: 0 });
  });

  it('starts queued jobs whose backoff has passed, oldest first, while capacity allows; a 429 keeps them queued', async () => {
    const config = pollConfig({ project, maxConcurrentJobs: 2 });
    const running = await h.startedJob();
    const now = world.clock.now();
    const at = (offsetMs: number) => new Date(now.getTime() + offsetMs);
    const older = recordIn('QUEUED', { time: at(-seconds(20)), trainingDatasetUri });
    const newer = recordIn('QUEUED', { time: at(-seconds(10)), trainingDatasetUri });
    const backingOff = recordIn('QUEUED', {
      time: at(-seconds(30)),
      trainingDatasetUri,
      attempts: 1,
      nextAttemptTime: at(seconds(300)).toISOString(),
    });
    for (const record of [older, newer, backingOff]) await h.store.create(record);

    // One slot free (2 allowed, 1 running): the oldest due job starts, the others wait.
    world.clock.advance(seconds(1));
    expect(await h.run({ config })).toMatchObject({ started: 1 });
    expect((await h.store.get(older.id))?.state).toBe('PENDING');
    expect((await h.store.get(newer.id))?.state).toBe('QUEUED');
    expect((await h.store.get(backingOff.id))?.state).toBe('QUEUED');
    expect(world.emulator.stats().create).toBe(2);

    // The running job finishes and frees a slot, but Vertex answers 429: still queued, backing off.
    world.emulator.faults.set({ rateLimitCreates: 1 });
    world.clock.advance(seconds(jobSeconds));
    expect(await h.run({ config })).toMatchObject({ started: 0 });
    expect((await h.store.get(running.id))?.state).toBe('SUCCEEDED');
    const throttled = await h.store.get(newer.id);
    expect(throttled?.state).toBe('QUEUED');
    expect(throttled?.provider.createIntentTime).toBeUndefined();
    expect(Date.parse(throttled?.nextAttemptTime ?? '')).toBeGreaterThan(world.clock.ms());
    expect(world.emulator.stats().create).toBe(3);
    expect((await world.emulator.jobs()).length).toBe(2);

    // Before its backoff has passed nothing is tried; after it, the job starts.
    expect(await h.run({ config })).toMatchObject({ started: 0 });
    expect(world.emulator.stats().create).toBe(3);
    world.clock.advance(seconds(61));
    expect(await h.run({ config })).toMatchObject({ started: 1 });
    const started = await h.store.get(newer.id);
    expect(started?.state).not.toBe('QUEUED');
    expect(started?.provider.jobName).toBeDefined();
    expect((await h.store.get(backingOff.id))?.state).toBe('QUEUED');

    await h.waitFor('tunedrop.v1.job.started', 2);
    await settle();
    expect(countOf(h.received, 'tunedrop.v1.job.started', older.id)).toBe(1);
    expect(countOf(h.received, 'tunedrop.v1.job.started', newer.id)).toBe(1);
  });

  it('adopts the Vertex job of a start that crashed before recording its name', async () => {
    const record = recordIn('QUEUED', {
      time: world.clock.now(),
      trainingDatasetUri,
      createIntentTime: world.clock.now().toISOString(),
      attempts: 1,
    });
    await h.store.create(record);
    const created = await world.provider.createJob(record.spec, record.id);

    // Within the grace period the create may still be in flight: its caller records the name.
    world.clock.advance(seconds(30));
    expect(await h.run()).toMatchObject({ started: 0, errors: 0 });
    expect((await h.store.get(record.id))?.provider.jobName).toBeUndefined();

    // After it, startJob looks the label up and adopts the job instead of creating one.
    world.clock.advance(seconds(10 * 60));
    expect(await h.run()).toMatchObject({ started: 1, errors: 0 });
    const adopted = await h.store.get(record.id);
    expect(adopted?.provider.jobName).toBe(created.name);
    expect(world.emulator.stats().create).toBe(1);

    // The next run follows it like any other job (it finished meanwhile).
    expect(await h.run()).toMatchObject({ refreshed: 1, transitions: 1 });
    expect((await h.store.get(record.id))?.history.map((entry) => entry.state)).toEqual([
      'QUEUED',
      'PENDING',
      'SUCCEEDED',
    ]);
    expect(world.emulator.stats().create).toBe(1);
    await h.waitFor('tunedrop.v1.job.succeeded');
    expect(h.received.map((event) => event.type)).toEqual([
      'tunedrop.v1.job.started',
      'tunedrop.v1.job.succeeded',
    ]);
  });

  it('retries the start of a job whose create intent expired with no Vertex job, creating exactly one', async () => {
    const record = recordIn('QUEUED', {
      time: world.clock.now(),
      trainingDatasetUri,
      createIntentTime: world.clock.now().toISOString(),
      attempts: 1,
    });
    await h.store.create(record);

    // Within the grace period the create may still be in flight: hands off.
    world.clock.advance(seconds(60));
    expect(await h.run()).toMatchObject({ started: 0 });
    expect(world.emulator.stats().create).toBe(0);

    world.clock.advance(seconds(10 * 60));
    expect(await h.run()).toMatchObject({ started: 1 });
    expect(await h.run()).toMatchObject({ started: 0 });
    const jobs = await world.emulator.jobs();
    expect(
      jobs.filter((job) => (job.labels as Record<string, string>)[jobIdLabel] === record.id),
    ).toHaveLength(1);
    expect((await h.store.get(record.id))?.state).toBe('PENDING');
  });

  it('reads a bounded number of pages when the Vertex job of an active record was deleted', async () => {
    // 50 finished jobs from long ago (their records are terminal, so not tracked).
    await Promise.all(
      Array.from({ length: 50 }, () => {
        const old = recordIn('PENDING', { time: world.clock.now(), trainingDatasetUri });
        return world.provider.createJob(old.spec, old.id);
      }),
    );
    world.clock.advance(2 * 60 * 60_000);
    const record = recordIn('RUNNING', {
      time: world.clock.now(),
      trainingDatasetUri,
      jobName: `${world.provider.parent}/tuningJobs/987654321`,
    });
    await h.store.create(record);

    world.emulator.resetStats();
    // History fills 10 pages of 5: one page shows the list has reached it, one get confirms the loss.
    const summary = await h.run({ config: pollConfig({ project, pageSize: 5 }) });
    expect(summary).toMatchObject({ refreshed: 0, transitions: 0, errors: 0, vertexCalls: 2 });
    expect(world.emulator.stats()).toMatchObject({ list: 1, get: 1, create: 0, total: 2 });
    expect((await h.store.get(record.id))?.state).toBe('RUNNING');
    expect(
      h.logger.entries.some((entry) => String(entry.message).startsWith('a provider job named in a record')),
    ).toBe(true);
  });
  it('expires a DRAFT nobody approved for 7 days (the default) with one job.expired; an approved one starts instead', async () => {
    const week = 7 * 24 * 3_600_000;
    const now = world.clock.now();
    const manual = { policy: { mode: 'manual' as const }, required: true };
    const waiting = { ...recordIn('DRAFT', { time: now, trainingDatasetUri }), approval: manual };
    const approved = {
      ...recordIn('DRAFT', { time: now, trainingDatasetUri }),
      approval: { ...manual, approvedBy: 'alex@example.com', approveTime: now.toISOString() },
    };
    for (const record of [waiting, approved]) await h.store.create(record);

    world.clock.advance(week - 60_000);
    expect(await h.run()).toMatchObject({ transitions: 0, started: 1, errors: 0 });
    expect((await h.store.get(waiting.id))?.state).toBe('DRAFT');
    expect((await h.store.get(approved.id))?.state).toBe('PENDING');

    // The waiting draft expires (one transition); the started one moved on to RUNNING meanwhile.
    world.clock.advance(60_000);
    expect(await h.run()).toMatchObject({ transitions: 2, errors: 0 });
    const expired = await h.store.get(waiting.id);
    expect(expired?.state).toBe('EXPIRED');
    expect(expired?.history.at(-1)).toMatchObject({ state: 'EXPIRED', reason: 'not approved within 7 days' });
    expect(expired?.outbox.every((entry) => entry.publishTime)).toBe(true);
    expect((await h.store.get(approved.id))?.state).toBe('RUNNING');
    expect(h.logger.entries.some((entry) => entry.message === 'draft expired without approval')).toBe(true);

    // Terminal now: later runs leave it alone and publish nothing more about it.
    world.clock.advance(week);
    await h.run();
    const [event] = await h.waitFor('tunedrop.v1.job.expired');
    await settle();
    expect(countOf(h.received, 'tunedrop.v1.job.expired', waiting.id)).toBe(1);
    expect(event?.subject).toBe(waiting.id);
    expect(event?.data).toMatchObject({ state: 'EXPIRED' });
    expect((await h.store.get(waiting.id))?.history.map((entry) => entry.state)).toEqual([
      'DRAFT',
      'EXPIRED',
    ]);
  });

  it('expires drafts after the configured TTL', async () => {
    const now = world.clock.now();
    const draft = {
      ...recordIn('DRAFT', { time: now, trainingDatasetUri }),
      approval: { policy: { mode: 'manual' as const }, required: true },
    };
    await h.store.create(draft);
    const config = pollConfig({ project, draftTtlMs: 2 * 3_600_000 });
    world.clock.advance(2 * 3_600_000);
    expect(await h.run({ config })).toMatchObject({ transitions: 1 });
    expect((await h.store.get(draft.id))?.history.at(-1)?.reason).toBe('not approved within 2 hours');
  });
});
