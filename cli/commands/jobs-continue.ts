/**
 * `tunedrop jobs continue ID --dataset PATH|gs://…`: continuous tuning from a succeeded job's
 * tuned model, through the admin API (`POST /jobs/{id}:continue`), which writes a manifest that
 * ingest validates like any other before anything is spent.
 *
 * A local PATH is uploaded next to that manifest, after it, in the order `tunedrop submit` uses:
 * the manifest waits for its dataset, and the dataset's upload belongs to the manifest (it never
 * becomes a job of its own). One request id per invocation makes a retried API call idempotent.
 */
import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import { ConfigError, loadConfig } from '../../shared/config/index.ts';
import type { ApiClient, ContinueRequest } from '../lib/api-client.ts';
import {
  type BucketTarget,
  createGcsTarget,
  createLocalTarget,
  parseBucketUrl,
} from '../lib/bucket-target.ts';

export interface ContinueFlags {
  dataset?: string;
  'validation-dataset'?: string;
  checkpoint?: string;
  epochs?: string;
  'display-name'?: string;
  'last-checkpoint-only'?: boolean;
  bucket?: string;
  'bucket-dir'?: string;
  json?: boolean;
}

export class ContinueUsageError extends Error {}

async function targetFor(flags: ContinueFlags): Promise<BucketTarget> {
  if (flags.bucket !== undefined && flags['bucket-dir'] !== undefined) {
    throw new ContinueUsageError('give --bucket or --bucket-dir, not both');
  }
  if (flags.bucket !== undefined) {
    const bucket = parseBucketUrl(flags.bucket);
    if (!bucket) throw new ContinueUsageError(`--bucket must be gs://BUCKET, got "${flags.bucket}"`);
    const { Storage } = await import('@google-cloud/storage');
    return createGcsTarget(new Storage(), bucket);
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) throw new ContinueUsageError(error.message);
    throw error;
  }
  return createLocalTarget(flags['bucket-dir'] ?? config.bucketDir ?? '.tunedrop/bucket', config.bucket);
}

export async function continueJobCommand(
  client: ApiClient,
  id: string,
  flags: ContinueFlags,
): Promise<number> {
  if (!flags.dataset) throw new ContinueUsageError('--dataset PATH|gs://BUCKET/OBJECT is required');
  const requestId = randomUUID();
  const request: ContinueRequest = { trainingDataset: flags.dataset, requestId };
  if (flags.checkpoint) request.checkpointId = flags.checkpoint;
  if (flags.epochs !== undefined) {
    const epochs = Number(flags.epochs);
    if (!Number.isInteger(epochs) || epochs < 1)
      throw new ContinueUsageError('--epochs must be a whole number ≥ 1');
    request.epochCount = epochs;
  }
  if (flags['display-name']) request.tunedModelDisplayName = flags['display-name'];
  if (flags['last-checkpoint-only']) request.exportLastCheckpointOnly = true;

  // Local files go into the manifest's folder, uploaded after the manifest.
  const uploads: [string, string][] = [];
  let target: BucketTarget | undefined;
  const place = async (path: string, as: string) => {
    if (path.startsWith('gs://')) return path;
    target ??= await targetFor(flags);
    const object = `incoming/continue-${id}-${requestId}/${as}-${basename(path)}`;
    uploads.push([object, path]);
    return `gs://${target.bucket}/${object}`;
  };
  request.trainingDataset = await place(flags.dataset, 'train');
  if (flags['validation-dataset'])
    request.validationDataset = await place(flags['validation-dataset'], 'validation');

  const result = await client.continueJob(id, request);
  for (const [object, path] of uploads) {
    await (target as BucketTarget).put(object, path, { contentType: 'application/jsonl' });
  }
  if (flags.json) console.log(JSON.stringify(result, null, 2));
  else {
    console.error(`Continuing ${result.preTunedModel.tunedModelName} as job ${result.jobId}.`);
    console.error(`Manifest: ${result.manifestUri} (ingest validates it before anything is spent)`);
    console.log(result.jobId);
  }
  return 0;
}
