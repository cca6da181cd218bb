import { describe, expect, it } from 'vitest';
import {
  createPollJobsHandler,
  type HttpResponse,
  healthPath,
  type Lease,
  noLease,
  type PollDeps,
  pollInProgress,
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
    // The Vertex list filter documents labels only: creation times are judged by the poller.
    expect(first?.createdAfter).toBeUndefined();
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

  it('reports a failed list as an error and starts nothing', async () => {
    const clock = manualClock();
    const running = startedRecord(clock.now(), 1, 'RUNNING');
    const orphan = recordIn('QUEUED', {
      time: clock.now(),
      createIntentTime: clock.now().toISOString(),
      attempts: 1,
    });
    const t = setup([running, orphan], []);
    t.fake.failListWith(new Error('503'));
    t.clock.advance(60 * 60_000);
    expect(await pollJobs(t.deps)).toMatchObject({ errors: 1, transitions: 0, started: 0 });
    expect(t.started).toEqual([]);
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

describe('records with a create intent and no job name', () => {
  it('keeps the backoff of a failed start instead of retrying it at once', async () => {
    const clock = manualClock();
    const running = startedRecord(clock.now(), 1, 'RUNNING');
    // A 5xx from create an hour ago: the intent is kept (the job may exist), the retry is due later.
    const backingOff = recordIn('QUEUED', {
      time: new Date(clock.ms() - 60 * 60_000),
      createIntentTime: new Date(clock.ms() - 60 * 60_000).toISOString(),
      attempts: 4,
      nextAttemptTime: new Date(clock.ms() + 4 * 60_000).toISOString(),
    });
    const t = setup(
      [running, backingOff],
      [providerJob(running.id, 'RUNNING', { name: running.provider.jobName })],
    );
    expect(await pollJobs(t.deps)).toMatchObject({ started: 0, errors: 0 });
    expect(t.started).toEqual([]);
    const after = await t.store.get(backingOff.id);
    expect(after?.nextAttemptTime).toBe(backingOff.nextAttemptTime);
    expect(after?.provider.createIntentTime).toBe(backingOff.provider.createIntentTime);
  });

  it('are started through startJob, which looks the label up before it creates exactly one job', async () => {
    const clock = manualClock();
    // The process died in (or right after) its create call half an hour ago.
    const crashed = recordIn('QUEUED', {
      time: new Date(clock.ms() - 30 * 60_000),
      createIntentTime: new Date(clock.ms() - 30 * 60_000).toISOString(),
      attempts: 1,
    });
    const t = setup([crashed], []);
    const { startJob: _fake, ...deps } = t.deps;
    expect(await pollJobs(deps)).toMatchObject({ started: 1, errors: 0 });
    const methods = t.fake.calls.map((call) => call.method);
    expect(methods.filter((method) => method === 'createJob')).toHaveLength(1);
    // The label lookup lists every job carrying the record id (duplicates included).
    const lookup = t.fake.calls.findIndex(
      (call) =>
        call.method === 'listJobs' &&
        (call as { options?: { labels?: Record<string, string> } }).options?.labels?.['tunedrop-job-id'] ===
          crashed.id,
    );
    expect(lookup).toBeGreaterThanOrEqual(0);
    expect(lookup).toBeLessThan(methods.indexOf('createJob'));
    expect((await t.store.get(crashed.id))?.state).toBe('PENDING');
  });

  it('adopt the job an interrupted start created, through startJob, creating none', async () => {
    const clock = manualClock();
    // The process died in (or right after) its create call half an hour ago.
    const crashed = recordIn('QUEUED', {
      time: new Date(clock.ms() - 30 * 60_000),
      createIntentTime: new Date(clock.ms() - 30 * 60_000).toISOString(),
      attempts: 1,
    });
    const existing = providerJob(crashed.id, 'RUNNING', { name: 'projects/p/locations/l/tuningJobs/orphan' });
    const t = setup([crashed], [existing]);
    const { startJob: _fake, ...deps } = t.deps;
    expect(await pollJobs(deps)).toMatchObject({ started: 1, errors: 0 });
    expect(t.fake.calls.map((call) => call.method)).not.toContain('createJob');
    expect((await t.store.get(crashed.id))?.provider.jobName).toBe(existing.name);
  });
});

describe('paging the provider list', () => {
  const minutes = (n: number) => n * 60_000;
  /** Managed jobs of records long finished, created `ageMs` before the clock's start. */
  const history = (count: number, ageMs: number) =>
    Array.from({ length: count }, (_, n) =>
      providerJob(`old${n}`.padEnd(32, '0'), 'SUCCEEDED', {
        name: `projects/p/locations/l/tuningJobs/old-${n}`,
        createTime: new Date(manualClock().ms() - ageMs - n * 1000).toISOString(),
      }),
    );

  it('reads a bounded number of pages when a named job was deleted, not one per page of history', async () => {
    const clock = manualClock();
    const orphaned = startedRecord(clock.now(), 1);
    // 50 old finished jobs (25 pages of 2), newest first, and no job for the active record.
    const t = setup([orphaned], history(50, minutes(120)));
    const summary = await pollJobs(t.deps);
    expect(summary).toMatchObject({ refreshed: 0, transitions: 0, errors: 0, vertexCalls: 2 });
    expect(t.fake.calls.map((call) => call.method)).toEqual(['listJobs', 'getJob']);
    expect(t.fake.calls[1]?.name).toBe(orphaned.provider.jobName);
    // The state is untouched; the 404 is counted towards giving up on the record.
    const after = await t.store.get(orphaned.id);
    expect({ ...after, recovery: undefined, updateTime: orphaned.updateTime }).toEqual({
      ...orphaned,
      recovery: undefined,
    });
    expect(after?.recovery).toMatchObject({ attempts: 1, lastError: expect.stringContaining('404') });
  });

  it('stops at a page budget that grows with the named jobs when the list order gives no hint', async () => {
    const clock = manualClock();
    const orphaned = startedRecord(new Date(clock.ms() - minutes(180)), 1);
    // Newer than the record: they cannot tell the poller it has reached history.
    const newer = history(50, -minutes(1));
    const t = setup([orphaned], newer);
    const summary = await pollJobs({ ...t.deps, config: { ...t.deps.config, maxListPages: 4 } });
    expect(summary).toMatchObject({ errors: 0, vertexCalls: 5 });
    expect(t.fake.calls.filter((call) => call.method === 'getJob')).toHaveLength(1);
  });

  it('refreshes a named job beyond the pages read by fetching it by name', async () => {
    const clock = manualClock();
    const job = startedRecord(new Date(clock.ms() - minutes(180)), 1);
    const t = setup(
      [job],
      [...history(10, -minutes(1)), providerJob(job.id, 'RUNNING', { name: job.provider.jobName })],
    );
    const summary = await pollJobs({ ...t.deps, config: { ...t.deps.config, maxListPages: 2 } });
    expect(summary).toMatchObject({ refreshed: 1, transitions: 1, errors: 0, vertexCalls: 3 });
    expect((await t.store.get(job.id))?.state).toBe('RUNNING');
  });

  it('fetches at most the configured number of missing named jobs one by one', async () => {
    const clock = manualClock();
    const orphans = Array.from({ length: 5 }, (_, n) => startedRecord(clock.now(), n));
    const t = setup(orphans, history(4, minutes(120)));
    const summary = await pollJobs({ ...t.deps, config: { ...t.deps.config, maxJobGets: 2 } });
    expect(t.fake.calls.filter((call) => call.method === 'getJob')).toHaveLength(2);
    expect(summary).toMatchObject({ errors: 0, vertexCalls: 3 });
    const note = t.logger.entries.find((entry) =>
      String(entry.message).startsWith('named provider jobs missing'),
    );
    expect(note).toMatchObject({ missing: 5, lookedUp: 2, leftOver: 3 });
  });

  it('does not keep paging for a record that has an intent but no job name', async () => {
    const clock = manualClock();
    const named = startedRecord(clock.now(), 1);
    const inFlight = recordIn('QUEUED', { time: clock.now(), createIntentTime: clock.now().toISOString() });
    const t = setup(
      [named, inFlight],
      [providerJob(named.id, 'PENDING', { name: named.provider.jobName }), ...history(20, -minutes(1))],
    );
    expect(await pollJobs(t.deps)).toMatchObject({ refreshed: 1, errors: 0, vertexCalls: 1 });
    expect(t.started).toEqual([]);
  });
});

describe('the run lease', () => {
  it('makes a run exit early, without any provider call, while another run holds it', async () => {
    const t = setup([startedRecord(manualClock().now(), 1)]);
    const held: Lease = { acquire: async () => false, release: async () => {} };
    expect(await pollJobs({ ...t.deps, lease: held })).toEqual({ skipped: pollInProgress });
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

  it("answers 200 when another flusher holds a record's outbox lease, reporting its events as leased", async () => {
    const clock = manualClock();
    const job = startedRecord(clock.now(), 1, 'RUNNING');
    const held: JobRecord = {
      ...job,
      outbox: [{ event: { id: `${job.id}.v1.job.running` }, createTime: clock.now().toISOString() }],
      outboxLease: { owner: 'another-flusher', until: new Date(clock.ms() + 60_000).toISOString() },
    };
    const t = setup([held], [providerJob(job.id, 'RUNNING', { name: job.provider.jobName })]);
    const { response, sent } = recordingResponse();
    await createPollJobsHandler(t.deps)({ method: 'POST' }, response);
    expect(sent.status).toBe(200);
    expect(sent.body).toMatchObject({ pending: 0, leased: 1, published: 0, errors: 0 });
    expect(t.publisher.published).toEqual([]);
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
    expect(sent).toEqual({ status: 200, body: { skipped: pollInProgress } });
  });

  it('answers the health route without polling or taking the lease', async () => {
    const t = setup([startedRecord(manualClock().now(), 1)]);
    let leaseCalls = 0;
    t.store.listActive = async () => {
      throw new Error('the health route must not read jobs');
    };
    const handler = createPollJobsHandler({
      ...t.deps,
      lease: {
        acquire: async () => {
          leaseCalls++;
          return true;
        },
        release: async () => {},
      },
    });
    const { response, sent } = recordingResponse();
    await handler({ method: 'GET', path: healthPath }, response);
    expect(sent).toEqual({ status: 200, body: { status: 'ok' } });
    expect(leaseCalls).toBe(0);
    expect(t.fake.calls).toEqual([]);
  });

  it('answers an overlapping request on the same instance at once with "poll in progress"', async () => {
    const t = setup([]);
    let finishFirst: () => void = () => {};
    let leaseCalls = 0;
    const firstListing = new Promise<void>((resolve) => {
      finishFirst = resolve;
    });
    const listActive = t.store.listActive.bind(t.store);
    t.store.listActive = async () => {
      await firstListing;
      return listActive();
    };
    const handler = createPollJobsHandler({
      ...t.deps,
      lease: {
        acquire: async () => {
          leaseCalls++;
          return true;
        },
        release: async () => {},
      },
    });
    const first = recordingResponse();
    const running = handler({ method: 'POST' }, first.response);
    const second = recordingResponse();
    await handler({ method: 'POST' }, second.response);
    expect(second.sent).toEqual({ status: 200, body: { skipped: pollInProgress } });
    finishFirst();
    await running;
    expect(first.sent.status).toBe(200);
    expect(leaseCalls).toBe(1);
    // Once the first run is over, the next request polls again.
    const third = recordingResponse();
    await handler({ method: 'POST' }, third.response);
    expect(third.sent.body).toMatchObject({ refreshed: 0, errors: 0 });
    expect(leaseCalls).toBe(2);
  });
});
