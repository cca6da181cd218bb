import { describe, expect, it } from 'vitest';
import {
  appendEvent,
  applyReportedState,
  applyTransition,
  createMemoryPublisher,
  flushAllPending,
  markStalled,
  maxOutboxEntries,
  publishPending,
  withCreationEvent,
} from '../../../shared/events/index.ts';
import { IllegalTransitionError } from '../../../shared/jobs/state-machine.ts';
import { createMemoryLogger } from '../../../shared/logging/index.ts';
import { jobFixture } from '../jobs/job-fixture.ts';
import { memoryStore } from '../poll-jobs/fakes.ts';

const context = { now: new Date('2025-03-01T10:00:00.000Z'), project: 'proj' };

describe('the outbox', () => {
  it('never appends the same event twice', () => {
    const job = jobFixture('RUNNING');
    const once = appendEvent(job, 'tunedrop.v1.job.running', context);
    const twice = appendEvent(once, 'tunedrop.v1.job.running', { ...context, now: new Date() });
    expect(once.outbox).toHaveLength(1);
    expect(twice).toBe(once);
  });

  it('adds a transition and its event in one step, the event describing the new state', () => {
    const job = applyTransition(jobFixture('PENDING'), 'SUCCEEDED', {
      ...context,
      patch: { result: { tunedModel: 'models/1', endpoint: 'endpoints/1' } },
    });
    expect(job.state).toBe('SUCCEEDED');
    expect(job.outbox).toHaveLength(1);
    expect(job.outbox[0]?.event).toMatchObject({
      type: 'tunedrop.v1.job.succeeded',
      data: { state: 'SUCCEEDED', result: { tunedModel: 'models/1' } },
    });
    expect(job.outbox[0]?.publishTime).toBeUndefined();
  });

  it('adds no event for a move to QUEUED or CANCELLING', () => {
    expect(applyTransition(jobFixture('DRAFT'), 'QUEUED', context).outbox).toHaveLength(0);
    expect(applyTransition(jobFixture('RUNNING'), 'CANCELLING', context).outbox).toHaveLength(0);
  });

  it('throws on an illegal transition and ignores a stale provider report', () => {
    expect(() => applyTransition(jobFixture('SUCCEEDED'), 'RUNNING', context)).toThrow(
      IllegalTransitionError,
    );
    expect(applyReportedState(jobFixture('RUNNING'), 'PENDING', context)).toBeUndefined();
    expect(applyReportedState(jobFixture('PENDING'), 'RUNNING', context)?.outbox).toHaveLength(1);
  });

  it('gives a record created as a draft its job.drafted event, and one created queued none', () => {
    expect(withCreationEvent(jobFixture('DRAFT'), context).outbox[0]?.event.type).toBe(
      'tunedrop.v1.job.drafted',
    );
    expect(withCreationEvent(jobFixture('QUEUED'), context).outbox).toHaveLength(0);
  });

  it('notifies a stall once per state', () => {
    const stalled = markStalled(jobFixture('RUNNING'), context);
    expect(stalled?.stalledNotified).toBe(true);
    expect(stalled?.outbox).toHaveLength(1);
    expect(stalled && markStalled(stalled, context)).toBeUndefined();
    expect(markStalled(jobFixture('SUCCEEDED'), context)).toBeUndefined();
  });

  it('drops the oldest published entries beyond the cap but never an unpublished one', () => {
    const entry = (id: string, published: boolean) => ({
      event: { id },
      createTime: context.now.toISOString(),
      ...(published ? { publishTime: context.now.toISOString() } : {}),
    });
    const outbox = [
      entry('pending-0', false),
      ...Array.from({ length: maxOutboxEntries - 1 }, (_, index) => entry(`published-${index}`, true)),
    ];
    const job = appendEvent(jobFixture('RUNNING', { outbox }), 'tunedrop.v1.job.running', context);
    expect(job.outbox).toHaveLength(maxOutboxEntries);
    expect(job.outbox.map((e) => e.event.id)).toContain('pending-0');
    expect(job.outbox.map((e) => e.event.id)).not.toContain('published-0');
    expect(job.outbox.at(-1)?.event.type).toBe('tunedrop.v1.job.running');
  });
});

describe('flushing the outbox while another flusher holds its lease', () => {
  const now = new Date('2025-03-01T10:00:00.000Z');
  const held = () => {
    const job = applyTransition(jobFixture('PENDING'), 'RUNNING', { now, project: 'proj' });
    return {
      ...job,
      outboxLease: { owner: 'another-flusher', until: new Date(now.getTime() + 60_000).toISOString() },
    };
  };

  it('reports the events as leased to the other flusher, not as pending, and publishes nothing', async () => {
    const job = held();
    const store = memoryStore([job]);
    const publisher = createMemoryPublisher();
    const logger = createMemoryLogger('test');
    const outcome = await publishPending(store, publisher, job.id, logger, { now: () => now });
    expect(outcome).toEqual({ published: 0, pending: 0, leased: 1, skipped: 'leased' });
    const flushed = await flushAllPending(store, publisher, logger, { now: () => now });
    expect(flushed).toMatchObject({ jobs: 1, published: 0, pending: 0, leased: 1, failedJobs: 0 });
    expect(publisher.published).toEqual([]);
  });

  it('publishes them itself once the lease has run out', async () => {
    const job = held();
    const store = memoryStore([job]);
    const publisher = createMemoryPublisher();
    const later = () => new Date(now.getTime() + 5 * 60_000);
    const flushed = await flushAllPending(store, publisher, createMemoryLogger('test'), { now: later });
    expect(flushed).toMatchObject({ published: 1, pending: 0, leased: 0 });
    expect(publisher.published).toHaveLength(1);
  });
});
