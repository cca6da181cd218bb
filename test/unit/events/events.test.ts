import { describe, expect, it } from 'vitest';
import {
  asReplay,
  buildDatasetRejectedEvent,
  buildJobEvent,
  eventIdFor,
  eventTypeForTransition,
  eventTypes,
  parseEvent,
  pubsubAttributes,
} from '../../../shared/events/index.ts';
import { type JobState, jobStates } from '../../../shared/jobs/model.ts';
import { jobFixture } from '../jobs/job-fixture.ts';

const context = { now: new Date('2025-03-01T10:00:00.000Z'), project: 'proj' };

describe('which event a state change emits', () => {
  const expected: Record<JobState, string | undefined> = {
    DRAFT: 'tunedrop.v1.job.drafted',
    QUEUED: undefined,
    PENDING: 'tunedrop.v1.job.started',
    RUNNING: 'tunedrop.v1.job.running',
    CANCELLING: undefined,
    SUCCEEDED: 'tunedrop.v1.job.succeeded',
    FAILED: 'tunedrop.v1.job.failed',
    CANCELLED: 'tunedrop.v1.job.cancelled',
    EXPIRED: 'tunedrop.v1.job.expired',
  };
  it.each(jobStates)('entering %s emits the matching event (or none)', (to) => {
    expect(eventTypeForTransition(undefined, to)).toBe(expected[to]);
    for (const from of jobStates.filter((state) => state !== to)) {
      expect(eventTypeForTransition(from, to)).toBe(expected[to]);
    }
  });

  it('emits nothing when the state does not change', () => {
    expect(eventTypeForTransition('RUNNING', 'RUNNING')).toBeUndefined();
  });
});

describe('job events', () => {
  it('wrap the public view in a CloudEvents 1.0 envelope with a stable id', () => {
    const job = jobFixture('RUNNING');
    const event = buildJobEvent(job, 'tunedrop.v1.job.running', context);
    expect(event).toMatchObject({
      specversion: '1.0',
      id: `${job.id}.v1.job.running`,
      source: '//tunedrop/projects/proj',
      type: 'tunedrop.v1.job.running',
      subject: job.id,
      time: '2025-03-01T10:00:00.000Z',
      datacontenttype: 'application/json',
      data: { id: job.id, state: 'RUNNING', baseModel: 'gemini-3.5-flash' },
    });
    expect(event.data).not.toHaveProperty('outbox');
    const later = buildJobEvent(job, 'tunedrop.v1.job.running', { ...context, now: new Date() });
    expect(later.id).toBe(event.id);
  });

  it('refuse a job.succeeded without a tuned model', () => {
    expect(() => buildJobEvent(jobFixture('SUCCEEDED'), 'tunedrop.v1.job.succeeded', context)).toThrow();
    const ok = buildJobEvent(
      jobFixture('SUCCEEDED', { result: { tunedModel: 'models/1', endpoint: 'endpoints/1' } }),
      'tunedrop.v1.job.succeeded',
      context,
    );
    expect(ok.data.result).toEqual({ tunedModel: 'models/1', endpoint: 'endpoints/1' });
  });

  it('refuse a job.failed without the error', () => {
    expect(() => buildJobEvent(jobFixture('FAILED'), 'tunedrop.v1.job.failed', context)).toThrow();
    const ok = buildJobEvent(
      jobFixture('FAILED', { error: { code: 400, message: 'bad' } }),
      'tunedrop.v1.job.failed',
      context,
    );
    expect(ok.data.error).toEqual({ code: 400, message: 'bad' });
  });

  it('carry the estimate in job.drafted, and draft a job of an unpriced model without one', () => {
    const drafted = buildJobEvent(jobFixture('DRAFT'), 'tunedrop.v1.job.drafted', context);
    expect(drafted.data).toHaveProperty('estimate.costUsd');
    const unpriced = buildJobEvent(
      jobFixture('DRAFT', { estimate: undefined }),
      'tunedrop.v1.job.drafted',
      context,
    );
    expect(unpriced.data).not.toHaveProperty('estimate');
  });

  it('refuse a type whose state does not match', () => {
    expect(() => buildJobEvent(jobFixture('QUEUED'), 'tunedrop.v1.job.running', context)).toThrow();
  });

  it('give each stalled state its own id and say since when the job stalled', () => {
    const pending = buildJobEvent(jobFixture('PENDING'), 'tunedrop.v1.job.stalled', context);
    const running = buildJobEvent(jobFixture('RUNNING'), 'tunedrop.v1.job.stalled', context);
    expect(pending.id).toBe(eventIdFor(pending.subject, 'tunedrop.v1.job.stalled', 'PENDING'));
    expect(pending.id).not.toBe(running.id);
    expect(pending.data).toMatchObject({ stalledSince: '2025-01-01T00:00:00.000Z' });
  });

  it('carry type, job id and state as Pub/Sub attributes', () => {
    const event = buildJobEvent(jobFixture('RUNNING'), 'tunedrop.v1.job.running', context);
    expect(pubsubAttributes(event)).toEqual({
      type: 'tunedrop.v1.job.running',
      jobId: event.subject,
      state: 'RUNNING',
      'content-type': 'application/cloudevents+json',
    });
  });

  it('mark a replayed copy with the replay extension and attribute, keeping id and data', () => {
    const event = buildJobEvent(jobFixture('RUNNING'), 'tunedrop.v1.job.running', context);
    const copy = asReplay(event);
    expect(copy).toEqual({ ...event, replay: true });
    expect(parseEvent(JSON.parse(JSON.stringify(copy)))).toMatchObject({ id: event.id, replay: true });
    expect(pubsubAttributes(copy)).toMatchObject({ replay: 'true', type: event.type });
    expect(pubsubAttributes(event)).not.toHaveProperty('replay');
  });
});

describe('dataset.rejected', () => {
  const rejection = {
    jobId: 'abc',
    source: { bucket: 'b', object: 'incoming/x.jsonl', generation: '7', manifest: false },
    reportUri: 'gs://b/reports/incoming/x.jsonl.report.json',
    errorCount: 25,
    errors: Array.from({ length: 25 }, (_, index) => ({ line: index + 1, code: 'bad', message: 'bad line' })),
  };

  it('keeps the first ten errors and the total count, without a state attribute', () => {
    const event = buildDatasetRejectedEvent(rejection, context);
    expect(event.id).toBe('abc.v1.dataset.rejected');
    expect(event.subject).toBe('abc');
    expect(event.data.errors).toHaveLength(10);
    expect(event.data.errors[0]).toEqual({ line: 1, code: 'bad', message: 'bad line' });
    expect(event.data.errorCount).toBe(25);
    expect(pubsubAttributes(event)).not.toHaveProperty('state');
  });
});

describe('parsing received events', () => {
  it('accepts every documented type and ignores fields it does not know', () => {
    const event = buildJobEvent(jobFixture('RUNNING'), 'tunedrop.v1.job.running', context);
    const parsed = parseEvent(JSON.parse(JSON.stringify({ ...event, extension: 'x' })));
    expect(parsed.type).toBe('tunedrop.v1.job.running');
    expect(eventTypes).toHaveLength(9);
  });

  it('rejects an unknown type and a wrong spec version', () => {
    const event = buildJobEvent(jobFixture('RUNNING'), 'tunedrop.v1.job.running', context);
    expect(() => parseEvent({ ...event, type: 'tunedrop.v1.job.exploded' })).toThrow();
    expect(() => parseEvent({ ...event, specversion: '0.3' })).toThrow();
  });
});
