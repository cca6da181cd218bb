/**
 * Continuing a succeeded job (continuous tuning): `POST /jobs/{id}:continue` writes a `tuning.json`
 * that starts from the job's tuned model into the bucket's `incoming/`, and ingest takes it from
 * there like any upload. Why a manifest rather than starting a job here:
 *
 * - validation before spend: ingest validates the new dataset against the tuned model's base
 *   model, applies the catalog (continuous tuning supported, retirement) and the approval policy,
 *   and writes the report, exactly as for a manifest a user uploads; nothing is created here;
 * - exactly once: the manifest's name is derived from the source job and a request id, and it is
 *   created only if absent (Cloud Storage ifGenerationMatch=0), so a retried call finds the same
 *   manifest instead of writing a second one; the job id then derives from bucket/object#generation
 *   as for every upload, and startJob's intent protocol creates at most one provider job.
 *
 * The API's service account needs permission to create objects in the bucket (it already reads
 * reports there); it never overwrites or deletes anything.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type JobRecord, jobIdFor, manifestFileName } from '../../shared/jobs/index.ts';
import type { ApiDeps } from './deps.ts';
import { ApiError } from './errors.ts';

const gsUri = z
  .string()
  .regex(/^gs:\/\/[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]\/.+$/, 'must be a gs://BUCKET/OBJECT URI');

export const ContinueBody = z.strictObject({
  /** The new training dataset. */
  trainingDataset: gsUri,
  validationDataset: gsUri.optional(),
  /** One of the source job's checkpoints; its default checkpoint when absent. */
  checkpointId: z.string().min(1).max(64).optional(),
  epochCount: z.number().int().positive().optional(),
  tunedModelDisplayName: z.string().min(1).max(128).optional(),
  exportLastCheckpointOnly: z.boolean().optional(),
  /** Makes the call idempotent: the same request id finds the same manifest. A new one by default. */
  requestId: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be 1-63 lowercase letters, digits or -')
    .optional(),
});
export type ContinueBody = z.infer<typeof ContinueBody>;

export interface ContinueResult {
  /** The manifest ingest validates and starts. */
  manifestUri: string;
  /** The id the new job has (or will have): its events and `jobs get` use it. */
  jobId: string;
  /** False when this request id had already written its manifest (a retry). */
  created: boolean;
  preTunedModel: { tunedModelName: string; checkpointId?: string };
}

/** The manifest that continues `source`'s tuned model on the new data. */
export function continuationManifest(source: JobRecord, body: ContinueBody): Record<string, unknown> {
  const tunedModelName = source.result?.tunedModel as string;
  const manifest: Record<string, unknown> = {
    preTunedModel: { tunedModelName, ...(body.checkpointId ? { checkpointId: body.checkpointId } : {}) },
    trainingDataset: body.trainingDataset,
    labels: { ...source.spec.labels, 'continued-from': source.id.slice(0, 63) },
  };
  if (body.validationDataset) manifest.validationDataset = body.validationDataset;
  if (body.epochCount !== undefined) manifest.epochCount = body.epochCount;
  if (body.tunedModelDisplayName) manifest.tunedModelDisplayName = body.tunedModelDisplayName;
  if (body.exportLastCheckpointOnly !== undefined)
    manifest.exportLastCheckpointOnly = body.exportLastCheckpointOnly;
  return manifest;
}

export async function continueJob(deps: ApiDeps, jobId: string, body: ContinueBody): Promise<ContinueResult> {
  const source = await deps.store.get(jobId);
  if (!source) throw new ApiError('NOT_FOUND', `job ${jobId} not found`);
  if (source.state !== 'SUCCEEDED' || !source.result?.tunedModel) {
    throw new ApiError(
      'FAILED_PRECONDITION',
      `job ${jobId} is ${source.state}; only a SUCCEEDED job with a tuned model can be continued`,
    );
  }
  const checkpoints = source.result.checkpoints ?? [];
  if (
    body.checkpointId &&
    checkpoints.length &&
    !checkpoints.some((c) => c.checkpointId === body.checkpointId)
  ) {
    throw new ApiError(
      'INVALID_ARGUMENT',
      `checkpointId: job ${jobId} has checkpoints ${checkpoints.map((c) => c.checkpointId).join(', ')}`,
      [{ field: 'checkpointId', description: 'not a checkpoint of this job' }],
    );
  }
  if (!deps.blobs.createIfAbsent) {
    throw new ApiError('FAILED_PRECONDITION', 'this deployment cannot write manifests into its bucket');
  }
  const bucket = deps.config.bucket;
  const requestId = body.requestId ?? randomUUID();
  const object = `incoming/continue-${jobId}-${requestId}/${manifestFileName}`;
  const manifest = continuationManifest(source, body);
  const written = await deps.blobs.createIfAbsent(
    bucket,
    object,
    `${JSON.stringify(manifest, null, 2)}\n`,
    'application/json',
  );
  const info = written ?? (await deps.blobs.stat(bucket, object));
  if (!info) throw new ApiError('UNAVAILABLE', `the manifest ${object} could not be read back; retry`);
  deps.logger.info('continuation manifest written', { jobId, object, created: written !== undefined });
  return {
    manifestUri: `gs://${bucket}/${object}`,
    jobId: jobIdFor({ bucket, object, generation: info.generation }),
    created: written !== undefined,
    preTunedModel: manifest.preTunedModel as ContinueResult['preTunedModel'],
  };
}
