import { describe, expect, it } from 'vitest';
import { createIngestHandler, type IngestDeps } from '../../../functions/ingest-dataset/index.ts';
import { createMemoryLogger } from '../../../shared/logging/index.ts';

/**
 * The storage trigger cannot filter by object name (Eventarc filters Cloud Storage events by
 * bucket only), so tunedrop's own writes reach ingest-dataset too: they must be acknowledged
 * before anything is read, or each report and pinned copy would start more work.
 */
function depsThatRefuseAnyRead(logger = createMemoryLogger('ingest-dataset')): IngestDeps {
  const refuse = (name: string) =>
    new Proxy(
      {},
      {
        get: (_target, property) => {
          throw new Error(`ingest used ${name}.${String(property)}`);
        },
      },
    );
  return {
    config: { eventMaxAgeMs: 24 * 60 * 60_000 },
    store: refuse('store'),
    provider: refuse('provider'),
    publisher: refuse('publisher'),
    blobs: refuse('blobs'),
    clock: () => new Date('2026-12-03T08:00:00Z'),
    logger,
  } as unknown as IngestDeps;
}

const finalized = (name: string) => ({
  specversion: '1.0' as const,
  id: `event-${name}`,
  source: '//storage.googleapis.com/projects/_/buckets/datasets',
  type: 'google.cloud.storage.object.v1.finalized',
  time: '2026-12-03T07:59:00Z',
  data: {
    bucket: 'datasets',
    name,
    generation: '1764748740000000',
    metageneration: '1',
    size: '1024',
    timeCreated: '2026-12-03T07:59:00Z',
    updated: '2026-12-03T07:59:00Z',
  },
});

describe("tunedrop's own writes to the bucket", () => {
  it.each([
    'validated/0f3c2a/train.jsonl',
    'validated/0f3c2a/incoming/team/train.jsonl',
    'reports/incoming/a.jsonl.report.json',
  ])('%s is acknowledged without any read, and logged as ignored', async (name) => {
    const logger = createMemoryLogger('ingest-dataset');
    const outcome = await createIngestHandler(depsThatRefuseAnyRead(logger))(finalized(name));
    expect(outcome).toMatchObject({ outcome: 'ignored' });
    expect(logger.entries).toEqual([expect.objectContaining({ object: name, outcome: 'ignored' })]);
  });
});
