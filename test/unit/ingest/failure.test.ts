import { describe, expect, it } from 'vitest';
import { classifyIngestError } from '../../../functions/ingest-dataset/classify.ts';
import { reportPermanentFailure } from '../../../functions/ingest-dataset/failure.ts';
import type { IngestDeps } from '../../../functions/ingest-dataset/ingest.ts';
import { PermanentError } from '../../../shared/errors/index.ts';
import { createMemoryPublisher } from '../../../shared/events/index.ts';
import { InvalidJobDocumentError } from '../../../shared/jobs/index.ts';
import { jobIdFor } from '../../../shared/jobs/model.ts';
import { createMemoryLogger } from '../../../shared/logging/index.ts';
import type { BlobStore } from '../../../shared/storage/index.ts';
import { jobFixture } from '../jobs/job-fixture.ts';
import { memoryStore } from '../poll-jobs/fakes.ts';

const ref = { bucket: 'drop', object: 'incoming/team/tuning.json', generation: '7' };
const failure = new PermanentError(
  'incoming/team/tuning.json.metadata.json is not valid JSON',
  'invalid-metadata-sidecar',
);

function setup(store = memoryStore()) {
  const written: { name: string; data: string }[] = [];
  const blobs = {
    async write(_bucket: string, name: string, data: string | Buffer) {
      written.push({ name, data: String(data) });
    },
  } as unknown as BlobStore;
  const publisher = createMemoryPublisher();
  const deps: Pick<IngestDeps, 'blobs' | 'store' | 'publisher' | 'clock' | 'config'> = {
    blobs,
    store,
    publisher,
    clock: () => new Date('2026-12-03T00:00:00Z'),
    config: { project: 'p' } as IngestDeps['config'],
  };
  return { deps, written, publisher, logs: createMemoryLogger('ingest') };
}

describe('a permanent failure of ingest', () => {
  it('writes a rejected report and publishes dataset.rejected naming the rule and the reason', async () => {
    const t = setup();
    const result = await reportPermanentFailure(t.deps, t.logs, ref, failure, classifyIngestError(failure));
    expect(result).toEqual({ reportUri: 'gs://drop/reports/incoming/team/tuning.json.report.json' });
    expect(t.written.map((file) => file.name)).toEqual(['reports/incoming/team/tuning.json.report.json']);
    const report = JSON.parse(t.written[0]!.data);
    expect(report).toMatchObject({
      status: 'rejected',
      kind: 'manifest',
      jobId: jobIdFor(ref),
      generation: '7',
    });
    expect(report.problems).toEqual([
      '/: tunedrop could not process this upload (permanent:invalid-metadata-sidecar): incoming/team/tuning.json.metadata.json is not valid JSON. Nothing was started; upload the file again to retry',
    ]);
    expect(t.publisher.published).toEqual([
      expect.objectContaining({
        type: 'tunedrop.v1.dataset.rejected',
        subject: jobIdFor(ref),
        data: expect.objectContaining({
          errorCount: 1,
          errors: [expect.objectContaining({ code: 'processing_failed', file: ref.object })],
        }),
      }),
    ]);
  });

  it('leaves an upload whose job record exists to that record, its state and its events', async () => {
    const existing = { ...jobFixture('PENDING'), id: jobIdFor(ref) };
    const t = setup(memoryStore([existing]));
    expect(await reportPermanentFailure(t.deps, t.logs, ref, failure, classifyIngestError(failure))).toEqual({
      jobExists: true,
    });
    expect(t.written).toEqual([]);
    expect(t.publisher.published).toEqual([]);
  });

  it('reports the upload when its job record is unreadable', async () => {
    const store = memoryStore();
    store.get = async (id) => {
      throw new InvalidJobDocumentError(id, []);
    };
    const t = setup(store);
    await reportPermanentFailure(t.deps, t.logs, ref, failure, classifyIngestError(failure));
    expect(t.publisher.published.map((event) => event.type)).toEqual(['tunedrop.v1.dataset.rejected']);
  });
});
