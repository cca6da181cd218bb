/** The validation report of a job's dataset, read from where ingest wrote it in the bucket. */
import { parseGcsUri } from '../../shared/jobs/manifest.ts';
import type { ApiDeps } from './deps.ts';
import { ApiError } from './errors.ts';

/** The generation a report says it is of (ingest writes it into every report), if it names one. */
function reportGeneration(report: unknown): string | undefined {
  const generation = (report as { generation?: unknown } | null)?.generation;
  return typeof generation === 'string' ? generation : undefined;
}

export async function readReport(deps: ApiDeps, jobId: string): Promise<unknown> {
  // A job, or a rejected upload: both keep where their report is and which generation it is of.
  const job = (await deps.store.get(jobId)) ?? (await deps.rejections.get(jobId));
  if (!job) throw new ApiError('NOT_FOUND', `job ${jobId} not found`);
  const uri = job.validation.reportUri;
  const location = parseGcsUri(uri);
  if (!location) throw new ApiError('NOT_FOUND', `job ${jobId} has no readable report (${uri})`);
  const info = await deps.blobs.stat(location.bucket, location.object);
  if (!info) throw new ApiError('NOT_FOUND', `the report of job ${jobId} is missing from ${uri}`);
  const text = await deps.blobs.readText(location.bucket, location.object);
  let report: unknown;
  try {
    report = JSON.parse(text);
  } catch {
    throw new ApiError('INTERNAL', `the report at ${uri} is not valid JSON`);
  }
  // Reports are named after the object, not the upload: a re-upload of the same name overwrites
  // this job's report with the newer upload's. That report is not this job's to show.
  const generation = reportGeneration(report);
  if (generation !== undefined && generation !== job.source.generation) {
    throw new ApiError(
      'NOT_FOUND',
      `the report of this upload was replaced by a newer upload's: job ${jobId} is generation ${job.source.generation}, ${uri} is now of generation ${generation}`,
    );
  }
  return report;
}
