import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../../functions/api/deps.ts';
import { ApiError } from '../../../functions/api/errors.ts';
import { readReport } from '../../../functions/api/report.ts';
import type { JobRecord } from '../../../shared/jobs/model.ts';
import { type BlobStore, createLocalBlobStore } from '../../../shared/storage/index.ts';
import { jobFixture } from '../jobs/job-fixture.ts';

let root: string;
let blobs: BlobStore;
let job: JobRecord;
let deps: ApiDeps;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tunedrop-report-'));
  blobs = createLocalBlobStore({ root });
  job = jobFixture('RUNNING', { id: 'support' });
  // Only the store and the bucket take part in reading a report.
  deps = {
    store: { get: async (id: string) => (id === job.id ? job : undefined) },
    blobs,
  } as unknown as ApiDeps;
});
afterEach(() => rm(root, { recursive: true, force: true }));

const writeReport = (report: unknown) =>
  blobs.write(
    'bucket',
    `reports/${job.source.object}.report.json`,
    JSON.stringify(report),
    'application/json',
  );

const failure = async (promise: Promise<unknown>): Promise<ApiError> => {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
};

describe('GET /jobs/{id}/report', () => {
  it("returns the report of the job's own upload", async () => {
    const report = { status: 'accepted', generation: job.source.generation, jobId: job.id };
    await writeReport(report);
    expect(await readReport(deps, job.id)).toEqual(report);
  });

  it("answers 404 when a newer upload of the same name replaced the job's report", async () => {
    await writeReport({ status: 'rejected', generation: '1700000000000002', jobId: 'another' });
    const error = await failure(readReport(deps, job.id));
    expect(error.status).toBe('NOT_FOUND');
    expect(error.code).toBe(404);
    expect(error.message).toContain("the report of this upload was replaced by a newer upload's");
  });

  it('answers 404 when there is no report', async () => {
    expect((await failure(readReport(deps, job.id))).status).toBe('NOT_FOUND');
  });
});
