import { describe, expect, it } from 'vitest';
import { createMemoryPublisher } from '../../../shared/events/index.ts';
import { InvalidJobDocumentError } from '../../../shared/jobs/firestore-store.ts';
import type { JobRecord, JobState } from '../../../shared/jobs/model.ts';
import { type StartJobDeps, startJob } from '../../../shared/jobs/start-job.ts';
import { createMemoryLogger } from '../../../shared/logging/index.ts';
import { ProviderError, type ProviderJob, type TuningProvider } from '../../../shared/providers/types.ts';
import { memoryStore, providerJob } from '../poll-jobs/fakes.ts';
import { jobFixture } from './job-fixture.ts';

const now = new Date('2025-01-01T01:00:00.000Z');
const minutesAgo = (minutes: number) => new Date(now.getTime() - minutes * 60_000).toISOString();

interface Script {
  /** What a label lookup lists: one job, several, or none. */
  find?: () => Promise<ProviderJob | ProviderJob[] | undefined>;
  create?: (recordId: string) => Promise<ProviderJob>;
}

/** A provider that answers from a script and records every call. */
function scriptedProvider(script: Script = {}) {
  const calls: string[] = [];
  const provider: TuningProvider = {
    name: 'vertex',
    async createJob(_spec, recordId) {
      calls.push('createJob');
      if (script.create) return script.create(recordId);
      return providerJob(recordId, 'PENDING');
    },
    async getJob() {
      throw new Error('not used');
    },
    async listJobs() {
      calls.push('listJobs');
      const found = script.find ? await script.find() : undefined;
      return { jobs: found === undefined ? [] : Array.isArray(found) ? found : [found] };
    },
    async findJobByRecordId() {
      throw new Error('startJob lists every labelled job instead');
    },
    async cancelJob(name) {
      calls.push(`cancelJob ${name}`);
    },
  };
  return { provider, calls };
}

function setup(records: JobRecord[], script: Script = {}, options: Partial<StartJobDeps> = {}) {
  const store = memoryStore(records);
  const { provider, calls } = scriptedProvider(script);
  const logger = createMemoryLogger('start-job-test');
  const publisher = createMemoryPublisher();
  const deps: StartJobDeps = {
    store,
    provider,
    publisher,
    logger,
    now: () => now,
    project: 'p',
    random: () => 0,
    ...options,
  };
  return { store, calls, logger, publisher, deps };
}

const named = (name: string, state: JobState, overrides: Partial<JobRecord> = {}) =>
  jobFixture(state, { id: name, ...overrides });

describe('starting a job while another caller may be creating it', () => {
  it('leaves the record alone when the label lookup fails during a create in flight', async () => {
    const job = named('busy', 'QUEUED', { provider: { name: 'vertex', createIntentTime: minutesAgo(1) } });
    const t = setup([job], {
      find: async () => {
        throw new ProviderError('unavailable', 503, 'UNAVAILABLE', true);
      },
    });
    await expect(startJob(t.deps, job.id)).rejects.toMatchObject({ httpStatus: 503 });
    // No nextAttemptTime: nobody may read the first caller's attempt as over and create again.
    expect(t.store.records.get(job.id)).toEqual(job);
    expect(t.calls).toEqual(['listJobs']);
  });

  it('queues a retry when the lookup fails for an attempt that is over', async () => {
    const job = named('crashed', 'QUEUED', {
      provider: { name: 'vertex', createIntentTime: minutesAgo(30) },
    });
    const t = setup([job], {
      find: async () => {
        throw new ProviderError('unavailable', 503, 'UNAVAILABLE', true);
      },
    });
    const after = await startJob(t.deps, job.id);
    expect(after.state).toBe('QUEUED');
    expect(after.nextAttemptTime).toBeDefined();
    expect(after.provider.createIntentTime).toBe(minutesAgo(30));
  });

  it('cancels a provider job created after the record was cancelled, and records its name', async () => {
    const job = named('late', 'QUEUED');
    const t = setup([job], {
      create: async (recordId) => {
        // The API cancels the record while the create call is still on the wire.
        await t.store.update(recordId, (current) => ({ ...current, state: 'CANCELLED' }));
        return providerJob(recordId, 'PENDING');
      },
    });
    const created = providerJob(job.id, 'PENDING');
    const after = await startJob(t.deps, job.id);
    expect(after.state).toBe('CANCELLED');
    expect(after.provider.jobName).toBe(created.name);
    expect(after.history.at(-1)).toMatchObject({
      state: 'CANCELLED',
      reason: expect.stringContaining('cancelling it'),
    });
    expect(t.calls).toEqual(['createJob', `cancelJob ${created.name}`]);
    expect(t.logger.entries.some((entry) => entry.severity === 'ERROR')).toBe(true);
    expect(t.publisher.published.map((event) => event.type)).not.toContain('tunedrop.v1.job.started');
  });
});

describe('starting a job within the concurrency cap', () => {
  const busy = [named('r1', 'RUNNING'), named('p1', 'PENDING')];

  it('leaves a job queued and due when the provider is full, creating nothing', async () => {
    const job = named('waiting', 'QUEUED');
    const t = setup([...busy, job], {}, { maxConcurrentJobs: 2 });
    const after = await startJob(t.deps, job.id);
    expect(after).toMatchObject({ state: 'QUEUED', nextAttemptTime: now.toISOString(), attempts: 0 });
    expect(after.provider.createIntentTime).toBeUndefined();
    expect(t.calls).toEqual([]);
  });

  it('counts a create in flight elsewhere as a taken slot', async () => {
    const creating = named('creating', 'QUEUED', {
      provider: { name: 'vertex', createIntentTime: minutesAgo(1) },
    });
    const job = named('waiting', 'QUEUED');
    const t = setup([named('r1', 'RUNNING'), creating, job], {}, { maxConcurrentJobs: 2 });
    expect((await startJob(t.deps, job.id)).state).toBe('QUEUED');
    expect(t.calls).toEqual([]);
  });

  it('moves an approved draft to QUEUED when the provider is full', async () => {
    const draft = named('draft', 'DRAFT', {
      approval: { policy: { mode: 'manual' }, required: true, approvedBy: 'a', approveTime: minutesAgo(1) },
    });
    const t = setup([...busy, draft], {}, { maxConcurrentJobs: 2 });
    const after = await startJob(t.deps, draft.id);
    expect(after).toMatchObject({ state: 'QUEUED', nextAttemptTime: now.toISOString() });
    expect(t.calls).toEqual([]);
  });

  it('starts the job while a slot is free', async () => {
    const job = named('next', 'QUEUED');
    const t = setup([...busy, job], {}, { maxConcurrentJobs: 3 });
    expect((await startJob(t.deps, job.id)).state).toBe('PENDING');
    expect(t.calls).toEqual(['createJob']);
  });

  it('does not count the interrupted start of the job itself against it', async () => {
    const job = named('crashed', 'QUEUED', {
      provider: { name: 'vertex', createIntentTime: minutesAgo(30) },
    });
    const t = setup([named('r1', 'RUNNING'), job], {}, { maxConcurrentJobs: 2 });
    expect((await startJob(t.deps, job.id)).state).toBe('PENDING');
    expect(t.calls).toEqual(['listJobs', 'createJob']);
  });
});

describe('giving up on a start that keeps failing', () => {
  const lastError = { code: 'UNAVAILABLE', message: 'the service is unavailable' };

  it('fails the job once a lookup finds nothing after the last allowed attempt', async () => {
    const job = named('tired', 'QUEUED', {
      attempts: 3,
      error: lastError,
      provider: { name: 'vertex', createIntentTime: minutesAgo(30) },
      nextAttemptTime: minutesAgo(1),
    });
    const t = setup([job], {}, { maxStartAttempts: 3 });
    const after = await startJob(t.deps, job.id);
    expect(after.state).toBe('FAILED');
    expect(after.error).toEqual({
      code: 'START_ATTEMPTS_EXHAUSTED',
      message: 'gave up after 3 attempts: the service is unavailable',
    });
    expect(t.calls).toEqual(['listJobs']);
    expect(t.publisher.published.map((event) => event.type)).toEqual(['tunedrop.v1.job.failed']);
  });

  it('still adopts a job the lookup finds after the last allowed attempt', async () => {
    const job = named('found', 'QUEUED', {
      attempts: 3,
      error: lastError,
      provider: { name: 'vertex', createIntentTime: minutesAgo(30) },
      nextAttemptTime: minutesAgo(1),
    });
    const t = setup([job], { find: async () => providerJob('found', 'RUNNING') }, { maxStartAttempts: 3 });
    const after = await startJob(t.deps, job.id);
    expect(after.state).toBe('PENDING');
    expect(after.error).toBeUndefined();
  });

  it('fails a job whose creates failed as often as allowed, creating nothing more', async () => {
    const job = named('quota', 'QUEUED', { attempts: 3, error: lastError, nextAttemptTime: minutesAgo(1) });
    const t = setup([job], {}, { maxStartAttempts: 3 });
    expect((await startJob(t.deps, job.id)).error?.code).toBe('START_ATTEMPTS_EXHAUSTED');
    expect(t.calls).toEqual([]);
  });

  it('keeps the last transient error for the message, and retries below the limit', async () => {
    const job = named('flaky', 'QUEUED', { attempts: 1 });
    const t = setup(
      [job],
      {
        create: async () => {
          throw new ProviderError('backend error', 503, 'UNAVAILABLE', true);
        },
      },
      { maxStartAttempts: 3 },
    );
    const after = await startJob(t.deps, job.id);
    expect(after).toMatchObject({
      state: 'QUEUED',
      attempts: 2,
      error: { code: 'UNAVAILABLE', message: 'backend error' },
    });
    expect(t.calls).toEqual(['createJob']);
  });

  it('counts a 429 as a wait for quota: no retry budget spent, the backoff stays at its first step', async () => {
    const job = named('burst', 'QUEUED', { attempts: 2, quotaWaits: 2 });
    const t = setup(
      [job],
      {
        create: async () => {
          throw new ProviderError('quota exceeded', 429, 'RESOURCE_EXHAUSTED', true);
        },
      },
      { maxStartAttempts: 3, backoff: { baseMs: 1000, maxMs: 60_000 } },
    );
    const after = await startJob(t.deps, job.id);
    expect(after).toMatchObject({ state: 'QUEUED', attempts: 3, quotaWaits: 3 });
    expect(after.provider.createIntentTime).toBeUndefined();
    // random() = 0: half of the first step's delay.
    expect(after.nextAttemptTime).toBe(new Date(now.getTime() + 500).toISOString());
  });

  it('keeps starting a job after many quota waits while its errors stay under the limit', async () => {
    const job = named('patient', 'QUEUED', {
      attempts: 40,
      quotaWaits: 38,
      error: { code: 'RESOURCE_EXHAUSTED', message: 'quota exceeded' },
      nextAttemptTime: minutesAgo(1),
    });
    const t = setup([job], {}, { maxStartAttempts: 3 });
    const after = await startJob(t.deps, job.id);
    expect(after.state).toBe('PENDING');
    expect(t.calls).toEqual(['createJob']);
  });

  it('gives up after the allowed errors however many quota waits came between them', async () => {
    const job = named('unlucky', 'QUEUED', {
      attempts: 13,
      quotaWaits: 10,
      error: lastError,
      nextAttemptTime: minutesAgo(1),
    });
    const t = setup([job], {}, { maxStartAttempts: 3 });
    const after = await startJob(t.deps, job.id);
    expect(after.error).toEqual({
      code: 'START_ATTEMPTS_EXHAUSTED',
      message: 'gave up after 3 attempts: the service is unavailable',
    });
    expect(t.calls).toEqual([]);
  });
});

describe('one record, one billed provider job', () => {
  const older = (id: string) =>
    providerJob(id, 'RUNNING', { name: 'projects/p/locations/l/tuningJobs/1', createTime: minutesAgo(20) });
  const newer = (id: string) =>
    providerJob(id, 'PENDING', { name: 'projects/p/locations/l/tuningJobs/2', createTime: minutesAgo(5) });

  it('adopts the oldest job a lookup finds, cancels the others and writes it in the history', async () => {
    const job = named('twice', 'QUEUED', {
      provider: { name: 'vertex', createIntentTime: minutesAgo(30) },
      nextAttemptTime: minutesAgo(1),
      error: { code: 'UNAVAILABLE', message: 'the service is unavailable' },
    });
    const t = setup([job], { find: async () => [newer(job.id), older(job.id)] });
    const after = await startJob(t.deps, job.id);
    expect(after.provider.jobName).toBe(older(job.id).name);
    expect(after.error).toBeUndefined();
    expect(t.calls).toEqual(['listJobs', `cancelJob ${newer(job.id).name}`]);
    expect(after.history.at(-1)?.reason).toBe(
      `cancelled duplicate provider job ${newer(job.id).name} made by a retried start; kept the oldest, ${older(job.id).name}`,
    );
    expect(t.logger.entries).toContainEqual(
      expect.objectContaining({
        severity: 'ERROR',
        message: 'cancelled a duplicate provider job of one record',
      }),
    );
  });

  it('says in the history when a duplicate could not be cancelled, and still starts', async () => {
    const job = named('stuck', 'QUEUED', {
      provider: { name: 'vertex', createIntentTime: minutesAgo(30) },
      nextAttemptTime: minutesAgo(1),
    });
    const t = setup([job], { find: async () => [older(job.id), newer(job.id)] });
    t.deps.provider.cancelJob = async () => {
      throw new ProviderError('unavailable', 503, 'UNAVAILABLE', true);
    };
    const after = await startJob(t.deps, job.id);
    expect(after.state).toBe('PENDING');
    expect(after.history.at(-1)?.reason).toMatch(/could not be cancelled: unavailable; cancel it by hand$/);
  });

  it('does not believe an empty lookup while the unknown-outcome attempt is recent, and creates nothing', async () => {
    // E.g. a record left by an older version with a short retry time after a 503.
    const job = named('recent', 'QUEUED', {
      provider: { name: 'vertex', createIntentTime: new Date(now.getTime() - 20_000).toISOString() },
      nextAttemptTime: new Date(now.getTime() - 1_000).toISOString(),
    });
    const t = setup([job], {}, { lookupSettleMs: 60_000 });
    const after = await startJob(t.deps, job.id);
    expect(after.state).toBe('QUEUED');
    expect(after.nextAttemptTime).toBe(new Date(now.getTime() + 40_000).toISOString());
    expect(t.calls).toEqual(['listJobs']);
  });

  it('after a 5xx on create, is not due again before the lookup can be believed', async () => {
    const job = named('503', 'QUEUED');
    const t = setup(
      [job],
      {
        create: async () => {
          throw new ProviderError('backend error', 503, 'UNAVAILABLE', true);
        },
      },
      { lookupSettleMs: 10 * 60_000, backoff: { baseMs: 1000, maxMs: 1000 } },
    );
    const after = await startJob(t.deps, job.id);
    expect(after.provider.createIntentTime).toBe(now.toISOString());
    expect(after.nextAttemptTime).toBe(new Date(now.getTime() + 10 * 60_000).toISOString());
  });
});

describe('a record that cannot be trusted or is gone', () => {
  it('refuses to create a job whose spec does not name the pinned, validated copy', async () => {
    const pinned = {
      uri: 'gs://bucket/validated/x/training/data.jsonl',
      generation: '2',
      sourceUri: 'gs://bucket/incoming/data.jsonl',
      sourceGeneration: '1',
    };
    const base = named('tampered', 'QUEUED');
    const job = { ...base, validation: { ...base.validation, pinned: { training: pinned } } };
    const t = setup([job]);
    const after = await startJob(t.deps, job.id);
    expect(after.state).toBe('FAILED');
    expect(after.error).toMatchObject({ code: 'DATASET_NOT_PINNED' });
    expect(after.error?.message).toContain(`is not the validated copy ${pinned.uri}`);
    expect(t.calls).toEqual([]);
  });

  it('starts a job whose spec names its pinned copies', async () => {
    const pinned = {
      uri: 'gs://bucket/validated/x/training/data.jsonl',
      generation: '2',
      sourceUri: 'gs://bucket/incoming/data.jsonl',
      sourceGeneration: '1',
    };
    const base = named('pinned', 'QUEUED');
    const job = {
      ...base,
      spec: { ...base.spec, trainingDatasetUri: pinned.uri },
      validation: { ...base.validation, pinned: { training: pinned } },
    };
    const t = setup([job]);
    expect((await startJob(t.deps, job.id)).state).toBe('PENDING');
  });

  it('stops with an error when the record is deleted during create, cancelling the job made for it', async () => {
    const job = named('deleted', 'QUEUED');
    const t = setup([job], {
      create: async (recordId) => {
        t.store.records.delete(recordId);
        return providerJob(recordId, 'PENDING');
      },
    });
    await expect(startJob(t.deps, job.id)).rejects.toMatchObject({ code: 'job-not-found' });
    expect(t.calls).toEqual(['createJob', `cancelJob ${providerJob(job.id, 'PENDING').name}`]);
    expect(t.logger.entries.map((entry) => entry.message)).not.toContain('provider job recorded');
  });

  it('stops with an error when the record is deleted while a retry is being scheduled', async () => {
    const job = named('gone', 'QUEUED');
    const t = setup([job], {
      create: async (recordId) => {
        t.store.records.delete(recordId);
        throw new ProviderError('backend error', 503, 'UNAVAILABLE', true);
      },
    });
    await expect(startJob(t.deps, job.id)).rejects.toMatchObject({ code: 'job-not-found' });
  });

  it('stops with the error when the record becomes unreadable during create, logging no success', async () => {
    const job = named('corrupt', 'QUEUED');
    const t = setup([job]);
    const update = t.store.update.bind(t.store);
    let updates = 0;
    t.store.update = async (id, mutate) => {
      updates++;
      // The claim commits; the record is corrupted before the create is recorded.
      if (updates > 1) throw new InvalidJobDocumentError(id, [{ message: 'state: invalid' }]);
      return update(id, mutate);
    };
    await expect(startJob(t.deps, job.id)).rejects.toBeInstanceOf(InvalidJobDocumentError);
    expect(t.calls).toEqual(['createJob']);
    expect(t.logger.entries.map((entry) => entry.message)).not.toContain('provider job recorded');
  });

  it("never adopts or cancels another record's job that a provider's list returned", async () => {
    const job = named('mine', 'QUEUED', {
      provider: { name: 'vertex', createIntentTime: minutesAgo(30) },
      nextAttemptTime: minutesAgo(1),
    });
    const someoneElses = providerJob('other-record', 'RUNNING', {
      name: 'projects/p/locations/l/tuningJobs/9',
    });
    const t = setup([job], { find: async () => [someoneElses] });
    const after = await startJob(t.deps, job.id);
    expect(after.provider.jobName).toBe(providerJob(job.id, 'PENDING').name);
    expect(t.calls).toEqual(['listJobs', 'createJob']);
  });
});
