import { describe, expect, it } from 'vitest';
import { type SweepDeps, sweepDatasets } from '../../../functions/poll-jobs/dataset-sweep.ts';
import { defaultPollSettings } from '../../../functions/poll-jobs/poll.ts';
import { datasetOrphanGraceMs, ingestTimeoutMs, loadConfig } from '../../../shared/config/index.ts';
import type { JobRecord } from '../../../shared/jobs/model.ts';
import { createMemoryLogger } from '../../../shared/logging/index.ts';
import { type HeldDataset, ProviderError, type TuningProvider } from '../../../shared/providers/index.ts';
import { jobFixture } from '../jobs/job-fixture.ts';

const now = new Date('2026-12-03T10:00:00Z');
const hoursAgo = (hours: number) => new Date(now.getTime() - hours * 3_600_000).toISOString();

function setup(held: HeldDataset[], records: JobRecord[], failing: Set<string> = new Set()) {
  const deleted: string[] = [];
  const provider = {
    name: 'yandex',
    async heldDatasets() {
      return held;
    },
    async deleteDataset(dataset: HeldDataset) {
      if (failing.has(dataset.id)) throw new ProviderError('unavailable', 503, 'UNAVAILABLE', true);
      deleted.push(dataset.id);
    },
  } as unknown as TuningProvider;
  const byId = new Map(records.map((record) => [record.id, record]));
  const logger = createMemoryLogger();
  const deps: SweepDeps = {
    provider,
    store: { get: async (id: string) => byId.get(id) },
    logger,
    clock: () => now,
    orphanGraceMs: 6 * 3_600_000,
    failuresLogged: new Set(),
  };
  return { deps, deleted, logger };
}

describe('freeing provider datasets', () => {
  it('deletes the datasets of terminal records and old orphans, keeps live and young ones', async () => {
    const held: HeldDataset[] = [
      { provider: 'yandex', id: 'done', recordId: 'succeeded' },
      { provider: 'yandex', id: 'expired', recordId: 'expired' },
      { provider: 'yandex', id: 'cancelled', recordId: 'cancelled' },
      { provider: 'yandex', id: 'running', recordId: 'running' },
      { provider: 'yandex', id: 'draft', recordId: 'draft' },
      { provider: 'yandex', id: 'old-orphan', recordId: 'none1', createTime: hoursAgo(7) },
      { provider: 'yandex', id: 'young-orphan', recordId: 'none2', createTime: hoursAgo(1) },
    ];
    const records = [
      jobFixture('SUCCEEDED', { id: 'succeeded' }),
      jobFixture('EXPIRED', { id: 'expired' }),
      jobFixture('CANCELLED', { id: 'cancelled' }),
      jobFixture('RUNNING', { id: 'running' }),
      jobFixture('DRAFT', { id: 'draft' }),
    ];
    const { deps, deleted } = setup(held, records);
    expect(await sweepDatasets(deps)).toEqual({ held: 7, deleted: 4, failed: 0 });
    expect(deleted).toEqual(['done', 'expired', 'cancelled', 'old-orphan']);
  });

  it('logs a failed delete once per dataset and retries it on every run', async () => {
    const failing = new Set(['done']);
    const { deps, deleted, logger } = setup(
      [{ provider: 'yandex', id: 'done', recordId: 'succeeded' }],
      [jobFixture('SUCCEEDED', { id: 'succeeded' })],
      failing,
    );
    expect(await sweepDatasets(deps)).toEqual({ held: 1, deleted: 0, failed: 1 });
    expect(await sweepDatasets(deps)).toEqual({ held: 1, deleted: 0, failed: 1 });
    const warnings = logger.entries.filter((entry) => String(entry.message).startsWith('deleting a dataset'));
    expect(warnings).toHaveLength(1);
    failing.clear();
    expect(await sweepDatasets(deps)).toEqual({ held: 1, deleted: 1, failed: 0 });
    expect(deleted).toEqual(['done']);
  });

  it('does nothing for a provider that holds no datasets (Vertex AI)', async () => {
    const { deps } = setup([], []);
    expect(
      await sweepDatasets({ ...deps, provider: { name: 'vertex' } as unknown as TuningProvider }),
    ).toBeUndefined();
  });

  it('keeps a dataset with no record and no creation time, and says so once', async () => {
    const held: HeldDataset[] = [{ provider: 'yandex', id: 'undated', recordId: 'none' }];
    const { deps, deleted, logger } = setup(held, []);
    expect(await sweepDatasets(deps)).toEqual({ held: 1, deleted: 0, failed: 0 });
    expect(await sweepDatasets(deps)).toEqual({ held: 1, deleted: 0, failed: 0 });
    expect(deleted).toEqual([]);
    expect(logger.entries.filter((entry) => entry.datasetId === 'undated')).toHaveLength(1);
  });
});

describe('the orphan grace of provider datasets', () => {
  it('outlasts ingest retrying its event (event max age) plus a last attempt (the function timeout)', () => {
    const eventMaxAgeMs = loadConfig({ GOOGLE_CLOUD_PROJECT: 'p' }).eventMaxAgeMs;
    expect(defaultPollSettings.datasetOrphanGraceMs).toBeGreaterThanOrEqual(eventMaxAgeMs + ingestTimeoutMs);
    expect(datasetOrphanGraceMs(2 * eventMaxAgeMs)).toBeGreaterThanOrEqual(
      2 * eventMaxAgeMs + ingestTimeoutMs,
    );
  });
});
