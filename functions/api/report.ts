/** The validation report of a job's dataset, read from where ingest wrote it in the bucket. */
import { parseGcsUri } from '../../shared/jobs/manifest.ts';
import type { ApiDeps } from './deps.ts';
import { ApiError } from './errors.ts';

export async function readReport(deps: ApiDeps, jobId: string): Promise<unknown> {
  const job = await deps.store.get(jobId);
  if (!job) throw new ApiError('NOT_FOUND', `job ${jobId} not found`);
  const uri = job.validation.reportUri;
  const location = parseGcsUri(uri);
  if (!location) throw new ApiError('NOT_FOUND', `job ${jobId} has no readable report (${uri})`);
  const info = await deps.blobs.stat(location.bucket, location.object);
  if (!info) throw new ApiError('NOT_FOUND', `the report of job ${jobId} is missing from ${uri}`);
  const text = await deps.blobs.readText(location.bucket, location.object);
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError('INTERNAL', `the report at ${uri} is not valid JSON`);
  }
}
