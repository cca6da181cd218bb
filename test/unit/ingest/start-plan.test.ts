import { describe, expect, it } from 'vitest';
import { backoffDelayMs, certainlyNotCreated, planStart } from '../../../shared/jobs/start-job.ts';
import { ProviderError } from '../../../shared/providers/types.ts';
import { jobFixture } from '../jobs/job-fixture.ts';

const now = new Date('2025-01-01T01:00:00.000Z');
const minutesAgo = (minutes: number) => new Date(now.getTime() - minutes * 60_000).toISOString();

describe('who may start a job', () => {
  it('lets the first caller claim a queued job', () => {
    expect(planStart(jobFixture('QUEUED'), now)).toEqual({ action: 'claim' });
  });

  it('lets a caller claim an approved draft, not an unapproved one', () => {
    expect(planStart(jobFixture('DRAFT'), now)).toEqual({ action: 'skip', reason: 'awaiting-approval' });
    const approved = jobFixture('DRAFT', {
      approval: {
        policy: { mode: 'manual' },
        required: true,
        approvedBy: 'a@b.c',
        approveTime: minutesAgo(1),
      },
    });
    expect(planStart(approved, now)).toEqual({ action: 'claim' });
  });

  it('never starts a job that has a provider job or is finished', () => {
    expect(
      planStart(jobFixture('PENDING', { provider: { name: 'vertex', jobName: 'j' } }), now),
    ).toMatchObject({
      action: 'skip',
      reason: 'already-started',
    });
    expect(planStart(jobFixture('FAILED'), now)).toMatchObject({ action: 'skip', reason: 'terminal' });
  });

  it('waits for the next attempt time of a queued retry', () => {
    const job = jobFixture('QUEUED', { nextAttemptTime: new Date(now.getTime() + 1000).toISOString() });
    expect(planStart(job, now)).toEqual({ action: 'skip', reason: 'not-due' });
  });

  it('sees a fresh intent as a start in progress elsewhere', () => {
    const job = jobFixture('QUEUED', { provider: { name: 'vertex', createIntentTime: minutesAgo(1) } });
    expect(planStart(job, now)).toEqual({ action: 'recover', intentTime: minutesAgo(1), inFlight: true });
  });

  it('sees an old intent, or one whose attempt ended, as interrupted', () => {
    const crashed = jobFixture('QUEUED', { provider: { name: 'vertex', createIntentTime: minutesAgo(30) } });
    expect(planStart(crashed, now)).toMatchObject({ action: 'recover', inFlight: false });
    const timedOut = jobFixture('QUEUED', {
      provider: { name: 'vertex', createIntentTime: minutesAgo(2) },
      nextAttemptTime: minutesAgo(1),
    });
    expect(planStart(timedOut, now)).toMatchObject({ action: 'recover', inFlight: false });
  });
});

describe('retry timing', () => {
  const policy = { baseMs: 1000, maxMs: 60_000 };
  it('doubles per attempt, with half of it random, up to the cap', () => {
    expect(backoffDelayMs(1, policy, () => 0)).toBe(500);
    expect(backoffDelayMs(1, policy, () => 0.999999)).toBe(1000);
    expect(backoffDelayMs(3, policy, () => 0)).toBe(2000);
    expect(backoffDelayMs(20, policy, () => 0.999999)).toBe(60_000);
  });
});

describe('whether a failed create may have made a job', () => {
  it('knows a quota refusal made none', () => {
    expect(certainlyNotCreated(new ProviderError('quota', 429, 'RESOURCE_EXHAUSTED', true))).toBe(true);
  });

  it('cannot tell after a server error, which may come after the job was made', () => {
    expect(certainlyNotCreated(new ProviderError('down', 503, 'UNAVAILABLE', true))).toBe(false);
    expect(certainlyNotCreated(new ProviderError('oops', 500, 'INTERNAL', true))).toBe(false);
    expect(certainlyNotCreated(new ProviderError('bad gateway', 502, 'UNAVAILABLE', true))).toBe(false);
    // A 429 that is not a quota refusal (e.g. a front end shedding load) says nothing either.
    expect(certainlyNotCreated(new ProviderError('busy', 429, 'UNAVAILABLE', true))).toBe(false);
  });

  it('cannot tell after a timeout or a lost connection', () => {
    expect(certainlyNotCreated(new ProviderError('timed out', 0, 'DEADLINE_EXCEEDED', true))).toBe(false);
    expect(certainlyNotCreated(new ProviderError('gateway', 504, 'DEADLINE_EXCEEDED', true))).toBe(false);
    expect(certainlyNotCreated(new TypeError('fetch failed'))).toBe(false);
  });
});
