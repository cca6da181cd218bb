/**
 * A burst beyond Vertex AI's concurrent tuning jobs quota (issue 11): datasets dropped at once,
 * the Vertex emulator allowing two jobs at a time. Every job must end SUCCEEDED, with exactly one
 * Vertex job each and none FAILED: a 429 is a wait for quota, not an error that spends the start's
 * retry budget. Real Firestore and Pub/Sub emulators, the pipeline's own ingest and poller, and a
 * shared hand-moved clock (bench/burst/drive.ts); `npm run bench -- burst` runs 60 datasets.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBurst } from '../../bench/burst/drive.ts';
import { createFirestore, defaultMaxStartAttempts } from '../../shared/jobs/index.ts';
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
  it('drains: every job SUCCEEDED, one Vertex job each, none FAILED, never more than the quota running', async () => {
    const datasets = 6;
    const result = await runBurst({
      firestore,
      pubsub,
      root,
      project,
      runId: uniqueName('burst'),
      datasets,
      maxRunning: 2,
      // tunedrop's own cap above the quota, so Vertex's 429s are what holds the jobs back.
      maxConcurrentJobs: 4,
      // Long jobs, frequent polls: a waiting job is refused far more often than the retry budget.
      jobSeconds: 1800,
      pollSeconds: 60,
    });
    expect(result.records).toHaveLength(datasets);
    expect(result.records.map((record) => record.state)).toEqual(Array(datasets).fill('SUCCEEDED'));
    expect(result.vertexJobs).toBe(datasets);
    expect(new Set(result.records.map((record) => record.provider.jobName)).size).toBe(datasets);
    expect(result.peakRunning).toBeLessThanOrEqual(2);
    // The quota refused creates, more often for one job than its whole retry budget, and those
    // refusals spent none of it: each job's only counted attempt is the create that worked.
    const waits = result.records.map((record) => record.quotaWaits ?? 0);
    expect(waits.reduce((sum, n) => sum + n, 0)).toBe(result.vertexCalls.create - datasets);
    expect(Math.max(...waits)).toBeGreaterThan(defaultMaxStartAttempts);
    for (const record of result.records) expect(record.attempts - (record.quotaWaits ?? 0)).toBe(1);
  });
});
