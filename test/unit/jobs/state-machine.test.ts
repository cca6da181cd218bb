import { describe, expect, it } from 'vitest';
import { isTerminal, type JobState, jobStates } from '../../../shared/jobs/model.ts';
import {
  advance,
  canTransition,
  classifyTransition,
  IllegalTransitionError,
  transition,
} from '../../../shared/jobs/state-machine.ts';
import { jobFixture } from './job-fixture.ts';

/** The legal moves, written out independently of the implementation's ranking. */
const legal: Record<JobState, JobState[]> = {
  DRAFT: ['QUEUED', 'PENDING', 'FAILED', 'CANCELLED', 'EXPIRED'],
  QUEUED: ['PENDING', 'RUNNING', 'CANCELLING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'EXPIRED'],
  PENDING: ['RUNNING', 'CANCELLING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'EXPIRED'],
  RUNNING: ['CANCELLING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'EXPIRED'],
  CANCELLING: ['SUCCEEDED', 'FAILED', 'CANCELLED', 'EXPIRED'],
  SUCCEEDED: [],
  FAILED: [],
  CANCELLED: [],
  EXPIRED: [],
};

const pairs = jobStates.flatMap((from) =>
  jobStates.map((to) => ({ from, to, ok: legal[from].includes(to) })),
);
const now = new Date('2025-02-01T12:00:00.000Z');

describe('the job state machine', () => {
  it.each(pairs)('$from → $to is legal: $ok', ({ from, to, ok }) => {
    expect(canTransition(from, to)).toBe(ok);
    const job = jobFixture(from);
    if (ok) {
      const next = transition(job, to, { now });
      expect(next.state).toBe(to);
    } else {
      expect(() => transition(job, to, { now })).toThrow(IllegalTransitionError);
    }
  });

  it('records the new state with its time and reason in the history and leaves the input untouched', () => {
    const job = jobFixture('PENDING');
    const next = transition(job, 'RUNNING', { now, reason: 'provider reports running' });
    expect(next.stateTime).toBe(now.toISOString());
    expect(next.updateTime).toBe(now.toISOString());
    expect(next.history).toEqual([
      ...job.history,
      { state: 'RUNNING', time: now.toISOString(), reason: 'provider reports running' },
    ]);
    expect(job.state).toBe('PENDING');
    expect(job.history).toHaveLength(1);
  });

  it('applies the patch along with the state, and re-arms the stall notice', () => {
    const job = jobFixture('RUNNING', { stalledNotified: true });
    const next = transition(job, 'SUCCEEDED', {
      now,
      patch: { result: { tunedModel: 'models/1', endpoint: 'endpoints/2' } },
    });
    expect(next.result).toEqual({ tunedModel: 'models/1', endpoint: 'endpoints/2' });
    expect(next.stalledNotified).toBe(false);
  });

  it('names the job and both states in the error of an illegal move', () => {
    const job = jobFixture('SUCCEEDED');
    expect(() => transition(job, 'RUNNING', { now })).toThrow(
      `job ${job.id}: illegal state transition SUCCEEDED → RUNNING`,
    );
  });

  it('ignores a backwards or repeated provider report instead of applying or rejecting it', () => {
    expect(advance(jobFixture('RUNNING'), 'PENDING', { now })).toBeUndefined();
    expect(advance(jobFixture('CANCELLING'), 'RUNNING', { now })).toBeUndefined();
    expect(advance(jobFixture('RUNNING'), 'RUNNING', { now })).toBeUndefined();
    expect(advance(jobFixture('FAILED'), 'SUCCEEDED', { now })).toBeUndefined();
    expect(advance(jobFixture('PENDING'), 'SUCCEEDED', { now })?.state).toBe('SUCCEEDED');
  });

  it('still rejects a forward move the lifecycle forbids when reports are applied leniently', () => {
    expect(classifyTransition('DRAFT', 'RUNNING')).toBe('illegal');
    expect(() => advance(jobFixture('DRAFT'), 'RUNNING', { now })).toThrow(IllegalTransitionError);
  });

  it('never moves a terminal job', () => {
    for (const from of jobStates.filter(isTerminal)) {
      for (const to of jobStates) expect(classifyTransition(from, to)).not.toBe('forward');
    }
  });
});
