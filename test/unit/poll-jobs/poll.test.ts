import { describe, expect, it } from 'vitest';
import {
  createPollJobsHandler,
  type HttpResponse,
  type Lease,
  noLease,
  type PollDeps,
  pollJobs,
} from '../../../functions/poll-jobs/index.ts';
import { createMemoryPublisher } from '../../../shared/events/index.ts';
import type { JobRecord } from '../../../shared/jobs/index.ts';
import { createMemoryLogger } from '../../../shared/logging/index.ts';
import { fakeProvider, memoryStore, providerJob } from './fakes.ts';
import { manualClock, pollConfig, recordIn } from './fixtures.ts';

function setup(
  records: JobRecord[],
  jobs = records.map((job) => providerJob(job.id, job.state, { name: job.provider.jobName })),
) {
  const clock = manualClock();
  const store = memoryStore(records);
  const fake = fakeProvider(jobs);
  const publisher = createMemoryPublisher();
  const logger = createMemoryLogger('poll-jobs');
  const started: string[] = [];
  const deps: PollDeps = {
    config: pollConfig({ maxConcurrentJobs: 2 }),
    store,
    provider: fake.provider,
    publisher,
    logger,
    clock: clock.now,
    lease: noLease,
    startJob: async (_deps, jobId) => {
      started.push(jobId);
      const updated = await store.update(jobId, (job) => ({
        ...job,
        state: 'PENDING',
        provider: {
          ...job.provider,
          jobName: `projects/p/locations/l/tuningJobs/${jobId}`,
          createIntentTime: clock.now().toISOString(),
        },
      }));
      return updated as JobRecord;
    },
  };
  return { clock, store, fake, publisher, logger, started, deps };
}

const startedRecord = (time: Date, n: number, state: 'PENDING' | 'RUNNING' = 'PENDING') =>
  recordIn(state, { time, jobName: `projects/p/locations/l/tuningJobs/${n}` });

function recordingResponse() {
  const sent: { status?: number; body?: unknown } = {};
  const response: HttpResponse = {
    status(code) {
      sent.status = code;
      return response;
    },
    json(body) {
      sent.body = body;
      return response;
    },
  };
  return { response, sent };
}

describe('a poll run', () => {
  it('refreshes every active job from label-filtered list pages, never one get per job', async () => {
    const clock = manualClock();
    const records = Array.from({ length: 5 }, (_, n) => startedRecord(clock.now(), n));
    const t = setup(records);
    const summary = await pollJobs(t.deps);
    expect(summary).toMatchObject({ refreshed: 5, vertexCalls: 3, errors: 0 });
    expect(t.fake.calls.map((call) => call.method)).toEqual(['listJobs', 'listJobs', 'listJobs']);
    const first = t.fake.calls[0]?.options;
    expect(first?.labels).toEqual({ 'tunedrop-managed': 'true' });
    // The oldest record's intent, less the clock-skew margin.
    expect(first?.createdAfter).toBe(new Date(clock.ms() - t.deps.config.createTimeMarginMs).toISOString());
  });

  it('stops paging once every active job has found its provider job', async () => {
    const clock = manualClock();
    const records = [startedRecord(clock.now(), 1), startedRecord(clock.now(), 2)];
    const unrelated = Array.from({ length: 6 }, (_, n) =>
      providerJob(`other${n}`.padEnd(32, '0'), 'SUCCEEDED'),
    );
    const t = setup(records, [
      ...records.map((job) => providerJob(job.id, 'PENDING', { name: job.provider.jobName })),
      ...unrelated,
    ]);
    expect(await pollJobs(t.deps)).toMatchObject({ refreshed: 2, vertexCalls: 1 });
  });

  it('makes no provider call when no job has been started', async () => {
    const t = setup([recordIn('DRAFT', { time: manualClock().now() })]);
    expect(await pollJobs(t.deps)).toMatchObject({ refreshed: 0, vertexCalls: 0 });
    expect(t.fake.calls).toEqual([]);
  });

  it('applies each change and publishes its event after the commit', async () => {
    const clock = manualClock();
    const job = startedRecord(clock.now(), 1);
    const t = setup([job], [providerJob(job.id, 'RUNNING', { name: job.provider.jobName })]);
    expect(await pollJobs(t.deps)).toMatchObject({ transitions: 1, published: 1, pending: 0 });
    expect(t.publisher.published.map((event) => event.id)).toEqual([`${job.id}.v1.job.running`]);
    expect((await t.store.get(job.id))?.outbox[0]?.publishTime).toBeDefined();
    const finished = t.logger.entries.find((entry) => entry.message === 'poll run finished');
    expect(finished).toMatchObject({ vertexCalls: 1, transitions: 1, published: 1 });
  });

  it('leaves a job whose provider job is not listed unchanged and says so', async () => {
    const job = startedRecord(manualClock().now(), 1);
    const t = setup([job], []);
    expect(await pollJobs(t.deps)).toMatchObject({ refreshed: 0, transitions: 0, errors: 0 });
    expect(
      t.logger.entries.some((entry) => String(entry.message).startsWith('a provider job named in a record')),
    ).toBe(true);
  });

  it('reports a failed list as an error and expires no create intent on missing evidence', async () => {
    const clock = manualClock();
    const orphan = recordIn('QUEUED', {
      time: clock.now(),
      createIntentTime: clock.now().toISOString(),
      attempts: 1,
    });
    const t = setup([orphan], []);
    t.fake.failListWith(new Error('503'));
    t.clock.advance(60 * 60_000);
    expect(await pollJobs(t.deps)).toMatchObject({ errors: 1, transitions: 0 });
    expect((await t.store.get(orphan.id))?.provider.createIntentTime).toBe(orphan.provider.createIntentTime);
  });

  it('starts queued jobs oldest first only while capacity allows', async () => {
    const clock = manualClock();
    const ago = (ms: number) => new Date(clock.ms() - ms);
    const running = startedRecord(clock.now(), 1, 'RUNNING');
    const oldest = recordIn('QUEUED', { time: ago(3000) });
    const middle = recordIn('QUEUED', { time: ago(2000) });
    const notDue = recordIn('QUEUED', {
      time: ago(9000),
      nextAttemptTime: new Date(clock.ms() + 1000).toISOString(),
    });
    const t = setup(
      [running, middle, oldest, notDue],
      [providerJob(running.id, 'RUNNING', { name: running.provider.jobName })],
    );
    expect(await pollJobs(t.deps)).toMatchObject({ started: 1 });
    expect(t.started).toEqual([oldest.id]);
  });

  it('does not start anything when the concurrent jobs already fill the capacity', async () => {
    const clock = manualClock();
    const busy = [startedRecord(clock.now(), 1), startedRecord(clock.now(), 2, 'RUNNING')];
    const t = setup([...busy, recordIn('QUEUED', { time: clock.now() })]);
    expect(await pollJobs(t.deps)).toMatchObject({ started: 0 });
    expect(t.started).toEqual([]);
  });
});

describe('the run lease', () => {
  it('makes a run exit early, without any provider call, while another run holds it', async () => {
    const t = setup([startedRecord(manualClock().now(), 1)]);
    const held: Lease = { acquire: async () => false, release: async () => {} };
    expect(await pollJobs({ ...t.deps, lease: held })).toEqual({ skipped: 'another run holds the lease' });
    expect(t.fake.calls).toEqual([]);
  });

  it('is released even when the run fails', async () => {
    const t = setup([]);
    let released = false;
    const lease: Lease = {
      acquire: async () => true,
      release: async () => {
        released = true;
      },
    };
    t.store.listActive = async () => {
      throw new Error('firestore unavailable');
    };
    await expect(pollJobs({ ...t.deps, lease })).rejects.toThrow('firestore unavailable');
    expect(released).toBe(true);
  });
});

describe('the HTTP handler', () => {
  it('answers 200 with the run summary', async () => {
    const t = setup([startedRecord(manualClock().now(), 1)]);
    const { response, sent } = recordingResponse();
    await createPollJobsHandler(t.deps)({ method: 'POST' }, response);
    expect(sent.status).toBe(200);
    expect(sent.body).toMatchObject({
      refreshed: 1,
      transitions: 0,
      started: 0,
      stalled: 0,
      published: 0,
      vertexCalls: 1,
    });
  });

  it('answers 500 when a step failed, so Cloud Scheduler retries', async () => {
    const t = setup([startedRecord(manualClock().now(), 1)]);
    t.fake.failListWith(new Error('503'));
    const { response, sent } = recordingResponse();
    await createPollJobsHandler(t.deps)({ method: 'POST' }, response);
    expect(sent.status).toBe(500);
  });

  it('answers 500 when events could not be published', async () => {
    const job = startedRecord(manualClock().now(), 1);
    const t = setup([job], [providerJob(job.id, 'RUNNING', { name: job.provider.jobName })]);
    t.publisher.failNext(10);
    const { response, sent } = recordingResponse();
    await createPollJobsHandler(t.deps)({ method: 'POST' }, response);
    expect(sent.status).toBe(500);
    expect(sent.body).toMatchObject({ transitions: 1, pending: 1 });
  });

  it('answers 500 when the run throws', async () => {
    const t = setup([]);
    t.store.listActive = async () => {
      throw new Error('firestore unavailable');
    };
    const { response, sent } = recordingResponse();
    await createPollJobsHandler(t.deps)({ method: 'POST' }, response);
    expect(sent.status).toBe(500);
    expect(t.logger.entries.some((entry) => entry.message === 'poll run failed')).toBe(true);
  });

  it('answers 200 with the reason when the run was skipped', async () => {
    const t = setup([]);
    const { response, sent } = recordingResponse();
    await createPollJobsHandler({
      ...t.deps,
      lease: { acquire: async () => false, release: async () => {} },
    })({ method: 'POST' }, response);
    expect(sent).toEqual({ status: 200, body: { skipped: 'another run holds the lease' } });
  });
});
