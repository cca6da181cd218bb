import { describe, expect, it } from 'vitest';
import { type SweepDeps, sweepDatasets } from '../../../functions/poll-jobs/dataset-sweep.ts';
import { defaultPollSettings } from '../../../functions/poll-jobs/poll.ts';
import { datasetOrphanGraceMs, ingestTimeoutMs, loadConfig } from '../../../shared/config/index.ts';
import type { JobRecord } from '../../../shared/jobs/model.ts';
import { createMemoryLogger } from '../../../shared/logging/index.ts';
import {
  type DeleteDatasetOptions,
  type HeldDataset,
  ProviderError,
  type TuningProvider,
} from '../../../shared/providers/index.ts';
import { jobFixture } from '../jobs/job-fixture.ts';

const now = new Date('2026-12-03T10:00:00Z');
const hoursAgo = (hours: number) => new Date(now.getTime() - hours * 3_600_000).toISOString();

function setup(held: HeldDataset[], records: JobRecord[], failing: Set<string> = new Set()) {
  const deleted: string[] = [];
  const proofs: Record<string, boolean | undefined> = {};
  const provider = {
    name: 'yandex',
    async heldDatasets() {
      return held;
    },
    async deleteDataset(dataset: HeldDataset, options?: DeleteDatasetOptions) {
      if (failing.has(dataset.id)) throw new ProviderError('unavailable', 503, 'UNAVAILABLE', true);
      deleted.push(dataset.id);
      proofs[dataset.id] = options?.namedByOwnRecord;
    },
  } as unknown as TuningProvider;
  const byId = new Map(records.map((record) => [record.id, record]));
  const logger = createMemoryLogger();
  const deps: SweepDeps = {
    provider,
    store: { get: async (id: string) => byId.get(id) },
    logger,
    clock: () => now,
    deploymentId: 'ours',
    orphanGraceMs: 6 * 3_600_000,
    failuresLogged: new Set(),
  };
  return { deps, deleted, logger, proofs };
}

describe('freeing provider datasets', () => {
  it('deletes the datasets of terminal records and old orphans, keeps live and young ones', async () => {
    const held: HeldDataset[] = [
      { provider: 'yandex', deployment: 'ours', id: 'done', recordId: 'succeeded' },
      { provider: 'yandex', deployment: 'ours', id: 'expired', recordId: 'expired' },
      { provider: 'yandex', deployment: 'ours', id: 'cancelled', recordId: 'cancelled' },
      { provider: 'yandex', deployment: 'ours', id: 'running', recordId: 'running' },
      { provider: 'yandex', deployment: 'ours', id: 'draft', recordId: 'draft' },
      {
        provider: 'yandex',
        deployment: 'ours',
        id: 'old-orphan',
        recordId: 'none1',
        createTime: hoursAgo(7),
      },
      {
        provider: 'yandex',
        deployment: 'ours',
        id: 'young-orphan',
        recordId: 'none2',
        createTime: hoursAgo(1),
      },
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
      [{ provider: 'yandex', deployment: 'ours', id: 'done', recordId: 'succeeded' }],
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
    const held: HeldDataset[] = [{ provider: 'yandex', deployment: 'ours', id: 'undated', recordId: 'none' }];
    const { deps, deleted, logger } = setup(held, []);
    expect(await sweepDatasets(deps)).toEqual({ held: 1, deleted: 0, failed: 0 });
    expect(await sweepDatasets(deps)).toEqual({ held: 1, deleted: 0, failed: 0 });
    expect(deleted).toEqual([]);
    expect(logger.entries.filter((entry) => entry.datasetId === 'undated')).toHaveLength(1);
  });
});

describe("keeping to this deployment's datasets (a folder shared by several deployments)", () => {
  it("never deletes another deployment's datasets, whatever this store knows of their record ids", async () => {
    const held: HeldDataset[] = [
      // No record here and long past the grace: an orphan, were it ours.
      {
        provider: 'yandex',
        deployment: 'staging',
        id: 'their-live',
        recordId: 'x1',
        createTime: hoursAgo(48),
      },
      // A record id this store also has, terminal (two deployments on one bucket object).
      { provider: 'yandex', deployment: 'staging', id: 'their-same-id', recordId: 'done' },
      { provider: 'yandex', deployment: 'ours', id: 'our-done', recordId: 'done' },
      { provider: 'yandex', deployment: 'ours', id: 'our-orphan', recordId: 'x2', createTime: hoursAgo(48) },
    ];
    const { deps, deleted } = setup(held, [jobFixture('SUCCEEDED', { id: 'done' })]);
    expect(await sweepDatasets(deps)).toEqual({ held: 2, deleted: 2, failed: 0 });
    expect(deleted).toEqual(['our-done', 'our-orphan']);
  });

  it('keeps datasets without a deployment label (an older tunedrop made them) and says what to do, once per process', async () => {
    const held: HeldDataset[] = [
      { provider: 'yandex', id: 'legacy-1', recordId: 'done', createTime: hoursAgo(48) },
      { provider: 'yandex', id: 'legacy-2', recordId: 'x3', createTime: hoursAgo(48) },
    ];
    const { deps, deleted, logger } = setup(held, [jobFixture('SUCCEEDED', { id: 'done' })]);
    expect(await sweepDatasets(deps)).toEqual({ held: 0, deleted: 0, failed: 0 });
    expect(await sweepDatasets(deps)).toEqual({ held: 0, deleted: 0, failed: 0 });
    expect(deleted).toEqual([]);
    const warnings = logger.entries.filter((entry) => String(entry.message).includes('tunedrop-deployment'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toContain('tunedrop-deployment=ours');
    expect(warnings[0]?.count).toBe(2);
  });

  it('frees an unlabelled dataset that one of its own records names (made before the upgrade), once the record is done', async () => {
    const named = (id: string, state: 'SUCCEEDED' | 'RUNNING') => {
      const record = jobFixture(state, { id });
      return { ...record, provider: { ...record.provider, datasets: { train: `train-${id}` } } };
    };
    const held: HeldDataset[] = [
      { provider: 'yandex', id: 'train-done', recordId: 'done' },
      { provider: 'yandex', id: 'train-live', recordId: 'live' },
      // Its record id is ours, but the record names another dataset: it may be anyone's.
      { provider: 'yandex', id: 'someone-elses', recordId: 'done', createTime: hoursAgo(48) },
    ];
    const { deps, deleted, proofs } = setup(held, [named('done', 'SUCCEEDED'), named('live', 'RUNNING')]);
    expect(await sweepDatasets(deps)).toEqual({ held: 2, deleted: 1, failed: 0 });
    expect(deleted).toEqual(['train-done']);
    expect(proofs).toEqual({ 'train-done': true });
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
