import { describe, expect, it } from 'vitest';
import {
  noteRecoveryFailure,
  type ReconcileOptions,
  reconcile,
} from '../../../functions/poll-jobs/reconcile.ts';
import { providerJob } from './fakes.ts';
import { recordIn } from './fixtures.ts';

const start = new Date('2025-06-01T12:00:00.000Z');
const later = (ms: number) => new Date(start.getTime() + ms);
const options = (now: Date, overrides: Partial<ReconcileOptions> = {}): ReconcileOptions => ({
  now,
  project: 'p',
  stallTimeoutMs: 60 * 60_000,
  ...overrides,
});
const started = (state: 'PENDING' | 'RUNNING' | 'CANCELLING' = 'PENDING') =>
  recordIn(state, { time: start, jobName: 'projects/p/locations/l/tuningJobs/1' });
const types = (job: { outbox: { event: Record<string, unknown> }[] } | undefined) =>
  job?.outbox.map((entry) => entry.event.type);

describe('reconciling a record with what the provider reports', () => {
  it('moves forward to the reported state and appends its event', () => {
    const job = started();
    const outcome = reconcile(
      job,
      providerJob(job.id, 'RUNNING', {
        name: job.provider.jobName,
        progress: { currentStep: 3, totalSteps: 10 },
      }),
      options(later(30_000)),
    );
    expect(outcome).toMatchObject({ from: 'PENDING', to: 'RUNNING', stalled: false });
    expect(outcome.job?.progress).toEqual({ currentStep: 3, totalSteps: 10 });
    expect(outcome.job?.provider.state).toBe('JOB_STATE_RUNNING');
    expect(types(outcome.job)).toEqual(['tunedrop.v1.job.running']);
  });

  it('ignores a report that points backwards but keeps the progress it carries', () => {
    const job = started('RUNNING');
    const outcome = reconcile(
      job,
      providerJob(job.id, 'PENDING', {
        name: job.provider.jobName,
        progress: { currentStep: 5, totalSteps: 10 },
      }),
      options(later(1000)),
    );
    expect(outcome.job?.state).toBe('RUNNING');
    expect(outcome.job?.progress).toEqual({ currentStep: 5, totalSteps: 10 });
    expect(outcome.job?.outbox).toEqual([]);
  });

  it('records the tuned model and endpoint on success, in the record and the event', () => {
    const job = started('RUNNING');
    const result = {
      tunedModel: 'projects/p/locations/l/models/9@1',
      endpoint: 'projects/p/locations/l/endpoints/8',
    };
    const outcome = reconcile(
      job,
      providerJob(job.id, 'SUCCEEDED', { name: job.provider.jobName, result }),
      options(later(1000)),
    );
    expect(outcome.job?.result).toEqual(result);
    const event = outcome.job?.outbox[0]?.event as { type: string; data: { result: unknown } };
    expect(event.type).toBe('tunedrop.v1.job.succeeded');
    expect(event.data.result).toEqual(result);
  });

  it('records the provider error on failure', () => {
    const job = started('RUNNING');
    const error = { code: 13, message: 'internal' };
    const outcome = reconcile(
      job,
      providerJob(job.id, 'FAILED', { name: job.provider.jobName, error }),
      options(later(1000)),
    );
    expect(outcome.job?.error).toEqual(error);
    expect(types(outcome.job)).toEqual(['tunedrop.v1.job.failed']);
  });

  it('changes nothing when the report matches the record', () => {
    const job = started('RUNNING');
    const observed = providerJob(job.id, 'RUNNING', { name: job.provider.jobName });
    const first = reconcile(job, observed, options(later(1000))).job ?? job;
    expect(reconcile(first, observed, options(later(2000))).job).toBeUndefined();
  });

  it('never touches a terminal record', () => {
    const job = recordIn('CANCELLED', { time: start, jobName: 'projects/p/locations/l/tuningJobs/1' });
    expect(
      reconcile(job, providerJob(job.id, 'RUNNING'), options(later(99 * 60 * 60_000))).job,
    ).toBeUndefined();
  });

  it('adopts the provider job of a start that crashed before recording it, emitting job.started first', () => {
    const job = recordIn('QUEUED', { time: start, createIntentTime: start.toISOString(), attempts: 1 });
    const observed = providerJob(job.id, 'RUNNING');
    const outcome = reconcile(job, observed, options(later(30_000)));
    expect(outcome.adopted).toBe(observed.name);
    expect(outcome.job?.provider.jobName).toBe(observed.name);
    expect(outcome.job?.history.map((entry) => entry.state)).toEqual(['QUEUED', 'PENDING', 'RUNNING']);
    expect(types(outcome.job)).toEqual(['tunedrop.v1.job.started', 'tunedrop.v1.job.running']);
  });

  it('leaves a record with an old create intent and no provider job to startJob, backoff and intent untouched', () => {
    const backingOff = recordIn('QUEUED', {
      time: start,
      createIntentTime: start.toISOString(),
      attempts: 3,
      nextAttemptTime: later(50 * 60_000).toISOString(),
    });
    const crashed = recordIn('QUEUED', { time: start, createIntentTime: start.toISOString(), attempts: 1 });
    for (const job of [backingOff, crashed]) {
      expect(reconcile(job, undefined, options(later(30 * 60_000))).job).toBeUndefined();
    }
  });

  it('appends job.stalled once when the state has not changed for the stall timeout', () => {
    const job = started('RUNNING');
    const observed = providerJob(job.id, 'RUNNING', { name: job.provider.jobName });
    expect(reconcile(job, undefined, options(later(59 * 60_000))).stalled).toBe(false);
    const outcome = reconcile(job, observed, options(later(60 * 60_000)));
    expect(outcome.stalled).toBe(true);
    expect(outcome.job?.stalledNotified).toBe(true);
    expect(types(outcome.job)).toEqual(['tunedrop.v1.job.stalled']);
    const again = reconcile(outcome.job ?? job, observed, options(later(5 * 60 * 60_000)));
    expect(again.job).toBeUndefined();
  });

  it('does not call a draft awaiting approval stalled', () => {
    const job = recordIn('DRAFT', { time: start });
    expect(reconcile(job, undefined, options(later(48 * 60 * 60_000))).job).toBeUndefined();
  });
});

describe('Vertex figures and failed reconciliations', () => {
  it('records new checkpoints and data stats of a running job without a state change', () => {
    const job = started('RUNNING');
    const observed = providerJob(job.id, 'RUNNING', {
      name: job.provider.jobName,
      result: { checkpoints: [{ checkpointId: '1', epoch: 1, step: 5 }] },
      tuningDataStats: {
        tuningDatasetExampleCount: 21,
        totalTruncatedExampleCount: 1,
        truncatedExampleIndices: [21],
      },
    });
    const outcome = reconcile(job, observed, options(later(60_000)));
    expect(outcome.to).toBe('RUNNING');
    expect(outcome.job?.result?.checkpoints).toEqual([{ checkpointId: '1', epoch: 1, step: 5 }]);
    expect(outcome.job?.tuningDataStats?.totalTruncatedExampleCount).toBe(1);
    expect(types(outcome.job)).toEqual([]);
    // Seen again with nothing new: no write.
    expect(reconcile(outcome.job!, observed, options(later(120_000))).job).toBeUndefined();
  });

  it('counts failed reconciliations and, at the limit, reports job.stalled with the reason once', () => {
    let job = started('RUNNING');
    for (let attempt = 1; attempt < 3; attempt++) {
      const counted = noteRecoveryFailure(
        job,
        'provider job x was not found (404)',
        3,
        options(later(attempt)),
      );
      expect(counted).toMatchObject({ gaveUp: false, job: { recovery: { attempts: attempt } } });
      job = counted.job!;
    }
    const last = noteRecoveryFailure(job, 'provider job x was not found (404)', 3, options(later(3)));
    expect(last.gaveUp).toBe(true);
    expect(last.job?.recovery?.gaveUpTime).toBeDefined();
    const stalled = last.job?.outbox.at(-1)?.event as { type: string; data: { reason: string } };
    expect(stalled.type).toBe('tunedrop.v1.job.stalled');
    expect(stalled.data.reason).toBe(
      'could not be reconciled with the provider after 3 attempts; no longer retried: provider job x was not found (404)',
    );
    // Given up: nothing more is counted or sent.
    expect(noteRecoveryFailure(last.job!, 'again', 3, options(later(4))).job).toBeUndefined();
  });

  it('clears the count once the job is seen again', () => {
    const job = {
      ...started('RUNNING'),
      recovery: { attempts: 2, lastError: '404', lastTime: start.toISOString() },
    };
    const outcome = reconcile(
      job,
      providerJob(job.id, 'RUNNING', { name: job.provider.jobName }),
      options(later(1)),
    );
    expect(outcome.job?.recovery).toBeUndefined();
  });
});

describe('expiring drafts nobody approved', () => {
  const week = 7 * 24 * 3_600_000;
  const draft = () => ({
    ...recordIn('DRAFT', { time: start }),
    approval: { policy: { mode: 'manual' as const }, required: true },
  });

  it('expires a DRAFT once it has waited the whole TTL, with job.expired and the reason in its history', () => {
    const outcome = reconcile(draft(), undefined, options(later(week), { draftTtlMs: week }));
    expect(outcome).toMatchObject({ from: 'DRAFT', to: 'EXPIRED', expired: 'not approved within 7 days' });
    expect(types(outcome.job)).toEqual(['tunedrop.v1.job.expired']);
    expect(outcome.job?.history.at(-1)).toEqual({
      state: 'EXPIRED',
      time: later(week).toISOString(),
      reason: 'not approved within 7 days',
    });
  });

  it('leaves a DRAFT alone before its TTL, and when no TTL is configured', () => {
    expect(reconcile(draft(), undefined, options(later(week - 1), { draftTtlMs: week })).job).toBeUndefined();
    expect(reconcile(draft(), undefined, options(later(10 * week))).job).toBeUndefined();
  });

  it('never expires an approved draft or one whose start is under way', () => {
    const approved = {
      ...draft(),
      approval: { ...draft().approval, approvedBy: 'a@example.com', approveTime: start.toISOString() },
    };
    const starting = { ...draft(), provider: { name: 'vertex', createIntentTime: start.toISOString() } };
    for (const job of [approved, starting]) {
      expect(reconcile(job, undefined, options(later(2 * week), { draftTtlMs: week })).job).toBeUndefined();
    }
  });

  it('does not expire jobs in other states, however old', () => {
    const queued = recordIn('QUEUED', { time: start });
    const outcome = reconcile(queued, undefined, options(later(2 * week), { draftTtlMs: week }));
    expect(outcome.to).toBe('QUEUED');
  });

  it('names a TTL that is not a whole number of days in hours or minutes', () => {
    const outcome = reconcile(draft(), undefined, options(later(week), { draftTtlMs: 36 * 3_600_000 }));
    expect(outcome.expired).toBe('not approved within 36 hours');
  });
});
