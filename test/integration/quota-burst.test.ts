/**
 * A burst beyond Vertex AI's concurrent tuning jobs quota (issue 11): datasets dropped at once,
 * the Vertex emulator allowing two jobs at a time. Every job must end SUCCEEDED, with exactly one
 * Vertex job each and none FAILED: a 429 is a wait for quota, not an error that spends the start's
 * retry budget. Real Firestore and Pub/Sub emulators, the pipeline's own ingest and poller, and a
 * shared hand-moved clock (bench/burst/drive.ts); `npm run bench -- burst` runs the same with 60.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBurst } from '../../bench/burst/drive.ts';
import { createFirestore } from '../../shared/jobs/index.ts';
import { uniqueName } from '../support/names.ts';

const project = process.env.GOOGLE_CLOUD_PROJECT ?? 'tunedrop-test';
let root: string;
let firestore: Firestore;
let pubsub: PubSub;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'tunedrop-burst-'));
  firestore = createFirestore({ project });
  pubsub = new PubSub({ projectId: project });
});

afterAll(async () => {
  await firestore?.terminate();
  await pubsub?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('a burst of datasets beyond the Vertex AI concurrent jobs quota', () => {
  it('drains: all 12 jobs SUCCEEDED, 12 Vertex jobs, none FAILED, never more than the quota running', async () => {
    const result = await runBurst({
      firestore,
      pubsub,
      root,
      project,
      runId: uniqueName('burst'),
      datasets: 12,
      maxRunning: 2,
      // tunedrop's own cap above the quota, so Vertex's 429s are what holds the jobs back.
      maxConcurrentJobs: 4,
      jobSeconds: 600,
      pollSeconds: 60,
    });
    expect(result.records).toHaveLength(12);
    expect(result.records.map((record) => record.state)).toEqual(Array(12).fill('SUCCEEDED'));
    expect(result.vertexJobs).toBe(12);
    expect(new Set(result.records.map((record) => record.provider.jobName)).size).toBe(12);
    expect(result.peakRunning).toBeLessThanOrEqual(2);
    // The quota did refuse creates, and those refusals spent no retry budget.
    expect(result.vertexCalls.create).toBeGreaterThan(12);
    const waits = result.records.reduce((sum, record) => sum + (record.quotaWaits ?? 0), 0);
    expect(waits).toBe(result.vertexCalls.create - 12);
    for (const record of result.records) expect(record.attempts - (record.quotaWaits ?? 0)).toBe(1);
  });
});
