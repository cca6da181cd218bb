import { describe, expect, it } from 'vitest';
import { createIngestHandler, type IngestDeps } from '../../../functions/ingest-dataset/index.ts';
import { createMemoryLogger } from '../../../shared/logging/index.ts';

/** Dependencies that fail the test if the handler touches any of them. */
function untouchable(logger = createMemoryLogger('ingest')): IngestDeps {
  const refuse = new Proxy(
    {},
    {
      get: (_target, property) => {
        throw new Error(`the handler used ${String(property)}`);
      },
    },
  );
  return {
    config: refuse,
    store: refuse,
    provider: refuse,
    publisher: refuse,
    blobs: refuse,
    clock: () => new Date('2026-01-01T00:00:00Z'),
    logger,
  } as unknown as IngestDeps;
}

const data = {
  bucket: 'b',
  name: 'incoming/a.jsonl',
  generation: '1',
  metageneration: '1',
  size: '10',
  timeCreated: '2026-01-01T00:00:00Z',
  updated: '2026-01-01T00:00:00Z',
};

describe('the ingest-dataset adapter', () => {
  it('acknowledges an event of another type without doing anything, and says so', async () => {
    const logger = createMemoryLogger('ingest');
    const handle = createIngestHandler(untouchable(logger));
    const outcome = await handle({
      specversion: '1.0',
      id: 'e1',
      source: '//storage.googleapis.com/projects/_/buckets/b',
      type: 'google.cloud.storage.object.v1.deleted',
      data,
    });
    expect(outcome).toBeUndefined();
    expect(logger.entries).toEqual([
      expect.objectContaining({ severity: 'ERROR', type: 'google.cloud.storage.object.v1.deleted' }),
    ]);
  });

  it('acknowledges malformed event data without doing anything', async () => {
    const logger = createMemoryLogger('ingest');
    const handle = createIngestHandler(untouchable(logger));
    const outcome = await handle({
      specversion: '1.0',
      id: 'e2',
      source: '//storage.googleapis.com/projects/_/buckets/b',
      type: 'google.cloud.storage.object.v1.finalized',
      data: { name: 'incoming/a.jsonl' },
    });
    expect(outcome).toBeUndefined();
    expect(logger.entries).toHaveLength(1);
  });
});
