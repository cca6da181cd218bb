/**
 * The log fields terraform/monitoring.tf's log-based metrics read (docs/operations.md, "Log fields
 * the metrics use"): renaming one silently empties a metric, an alert or a dashboard tile.
 */
import { describe, expect, it } from 'vitest';
import { logDelivered, logDeliveryFailed } from '../../../functions/deliver-webhooks/logs.ts';
import { logIgnored, logIngestFinished } from '../../../functions/ingest-dataset/logs.ts';
import { logs as pollLogs } from '../../../functions/poll-jobs/logs.ts';
import { createMemoryLogger } from '../../../shared/logging/index.ts';
import { jobFixture } from '../jobs/job-fixture.ts';

const ref = { bucket: 'datasets', object: 'incoming/a.jsonl', generation: '7' };

describe('ingest-dataset writes one summary line per processed upload', () => {
  it('with outcome, job id, state and the upload-to-job latency when this event created the job', () => {
    const logger = createMemoryLogger('ingest-dataset');
    const job = jobFixture('PENDING');
    logIngestFinished(logger, ref, { outcome: 'job', job, created: true }, 1234);
    expect(logger.entries[0]).toMatchObject({
      outcome: 'job',
      jobId: job.id,
      state: 'PENDING',
      created: true,
      uploadToJobMs: 1234,
    });
  });

  it('without a latency for a duplicate delivery, which created nothing', () => {
    const logger = createMemoryLogger('ingest-dataset');
    logIngestFinished(logger, ref, { outcome: 'job', job: jobFixture('QUEUED'), created: false }, 1234);
    expect(logger.entries[0]).toMatchObject({ outcome: 'job', created: false });
    expect(logger.entries[0]).not.toHaveProperty('uploadToJobMs');
  });

  it('with outcome rejected and the job id the rejection carries', () => {
    const logger = createMemoryLogger('ingest-dataset');
    logIngestFinished(
      logger,
      ref,
      { outcome: 'rejected', jobId: 'j1', reportUri: 'gs://datasets/reports/x', errorCount: 2 },
      10,
    );
    expect(logger.entries).toEqual([
      expect.objectContaining({ outcome: 'rejected', jobId: 'j1', object: ref.object }),
    ]);
  });

  it('and marks ignored objects with outcome ignored (no summary line for them)', () => {
    const logger = createMemoryLogger('ingest-dataset');
    logIngestFinished(logger, ref, { outcome: 'ignored', reason: 'outside incoming/' }, 10);
    logIgnored(logger, ref, 'outside incoming/');
    expect(logger.entries).toEqual([
      expect.objectContaining({ outcome: 'ignored', reason: 'outside incoming/' }),
    ]);
  });
});

describe('poll-jobs marks runs, state changes, stalls and provider deferrals', () => {
  const summary = {
    refreshed: 1,
    transitions: 0,
    started: 0,
    stalled: 0,
    published: 0,
    pending: 0,
    leased: 0,
    vertexCalls: 1,
    errors: 0,
    listMode: 'labels' as const,
    gaveUp: 0,
  };

  it('a run is ok, errors (a step failed or events stayed unpublished) or failed', () => {
    const logger = createMemoryLogger('poll-jobs');
    pollLogs.runFinished(logger, summary, 5);
    pollLogs.runFinished(logger, { ...summary, errors: 1 }, 5);
    pollLogs.runFinished(logger, { ...summary, pending: 2 }, 5);
    pollLogs.runFailed(logger, new Error('firestore unavailable'));
    expect(logger.entries.map((entry) => entry.outcome)).toEqual(['ok', 'errors', 'errors', 'failed']);
  });

  it('a state change carries the new state; a stall and a deferral carry the job id', () => {
    const logger = createMemoryLogger('poll-jobs');
    pollLogs.jobTransitioned(logger, 'j1', 'RUNNING', 'FAILED', 'JOB_STATE_FAILED');
    pollLogs.jobStalled(logger, 'j2', 'RUNNING', '2026-12-03T00:00:00Z');
    pollLogs.startDeferred(logger, 'j3', '2026-12-03T01:00:00Z', 3700);
    expect(logger.entries).toEqual([
      expect.objectContaining({ outcome: 'state-changed', jobId: 'j1', state: 'FAILED' }),
      expect.objectContaining({ outcome: 'stalled', jobId: 'j2' }),
      expect.objectContaining({ outcome: 'start-deferred', jobId: 'j3', queuedSeconds: 3700 }),
    ]);
  });
});

describe('deliver-webhooks marks each delivery with its outcome and event type', () => {
  const event = { id: 'e1', type: 'tunedrop.v1.job.succeeded', messageId: 'm1', subject: 'j1' };
  const endpoint = { endpointId: 'ep1', host: 'hooks.example.com', path: '/tunedrop' };

  it('delivered with its latency and attempt, failed with its reason', () => {
    const logger = createMemoryLogger('deliver-webhooks');
    logDelivered(logger, event, {
      ...endpoint,
      result: 'delivered',
      status: 200,
      attempt: 2,
      latencyMs: 85,
      recorded: true,
    });
    logDeliveryFailed(logger, event, {
      ...endpoint,
      result: 'failed',
      reason: 'timeout',
      detail: 'no answer in 15 s',
      attempt: 1,
    });
    expect(logger.entries).toEqual([
      expect.objectContaining({
        outcome: 'delivered',
        eventType: 'tunedrop.v1.job.succeeded',
        jobId: 'j1',
        latencyMs: 85,
        attempt: 2,
      }),
      expect.objectContaining({
        outcome: 'failed',
        eventType: 'tunedrop.v1.job.succeeded',
        jobId: 'j1',
        reason: 'timeout',
      }),
    ]);
  });
});
