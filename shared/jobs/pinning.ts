/**
 * The start's side of "validated bytes are trained bytes": ingest pins every dataset to a copy
 * under `validated/` and puts the copies' URIs in the spec (shared/storage/pin.ts); a record whose
 * spec names anything else is never created at the provider.
 */
import { applyTransition } from '../events/index.ts';
import type { JobRecord } from './model.ts';

/**
 * Why a record may not be created at the provider as it is: its spec names datasets other than
 * the pinned copies it was validated from. Records from before pinning (no `validation.pinned`)
 * pass; the API refuses to approve such a draft whose upload changed.
 */
export function unpinnedDatasets(job: JobRecord): string | undefined {
  const pinned = job.validation.pinned;
  if (!pinned) return undefined;
  if (job.spec.trainingDatasetUri !== pinned.training.uri) {
    return `the training dataset ${job.spec.trainingDatasetUri} is not the validated copy ${pinned.training.uri}`;
  }
  if (job.spec.validationDatasetUri !== pinned.validation?.uri) {
    return `the validation dataset ${job.spec.validationDatasetUri ?? '(none)'} is not the validated copy ${pinned.validation?.uri ?? '(none)'}`;
  }
  return undefined;
}

/** FAILED with DATASET_NOT_PINNED: nothing is created from bytes that were not validated. */
export function refuseUnpinned(
  context: { now: () => Date; project: string },
  job: JobRecord,
  problem: string,
): JobRecord {
  const { nextAttemptTime: _dropped, ...rest } = job;
  return applyTransition(rest, 'FAILED', {
    now: context.now(),
    project: context.project,
    reason: 'refused: the datasets are not the validated copies',
    patch: {
      error: {
        code: 'DATASET_NOT_PINNED',
        message: `${problem}; tunedrop trains only on the copy it validated: upload the dataset again`,
      },
    },
  });
}
