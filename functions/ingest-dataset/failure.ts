/**
 * A permanent failure that escaped ingest (classify.ts) still ends the way every permanent
 * problem does: a report at `reports/<object>.report.json` and a `dataset.rejected` event, so the
 * user learns the upload was not acted on, and why. Unless a job record exists for the upload:
 * then the job's own state, events and report tell its story, and only the log is added.
 */

import { buildDatasetRejectedEvent } from '../../shared/events/index.ts';
import { InvalidJobDocumentError } from '../../shared/jobs/firestore-store.ts';
import { manifestFileName } from '../../shared/jobs/manifest.ts';
import { jobIdFor } from '../../shared/jobs/model.ts';
import type { Logger } from '../../shared/logging/index.ts';
import { reportNameFor } from '../../shared/storage/index.ts';
import type { Classification } from './classify.ts';
import type { IngestDeps } from './ingest.ts';
import { type IngestReport, reportFormatVersion } from './report.ts';

export interface FailedObject {
  bucket: string;
  object: string;
  generation: string;
}

/** What the report and the event say about a failure: no stack, no internals beyond the message. */
export function failureMessage(error: unknown, classification: Classification): string {
  const message = error instanceof Error ? error.message : String(error);
  return `tunedrop could not process this upload (${classification.rule}): ${message}. Nothing was started; upload the file again to retry`;
}

export async function reportPermanentFailure(
  deps: Pick<IngestDeps, 'blobs' | 'store' | 'publisher' | 'clock' | 'config'>,
  logger: Logger,
  ref: FailedObject,
  error: unknown,
  classification: Classification,
): Promise<{ reportUri: string } | { jobExists: true }> {
  const jobId = jobIdFor(ref);
  let existing: unknown;
  try {
    existing = await deps.store.get(jobId);
  } catch (error) {
    // A record that breaks the schema tracks nothing: the upload is reported like one without.
    if (!(error instanceof InvalidJobDocumentError)) throw error;
    logger.error('the job record of the failed upload is unreadable', { jobId, error });
  }
  if (existing) {
    logger.error('the failure concerns an existing job; its record and events carry its state', { jobId });
    return { jobExists: true };
  }
  const message = failureMessage(error, classification);
  const now = deps.clock();
  const manifest = ref.object.endsWith(`/${manifestFileName}`);
  const report: IngestReport = {
    reportFormatVersion,
    status: 'rejected',
    kind: manifest ? 'manifest' : 'dataset',
    object: `gs://${ref.bucket}/${ref.object}`,
    generation: ref.generation,
    jobId,
    time: now.toISOString(),
    problems: [`/: ${message}`],
    notes: [],
    datasets: {},
  };
  const reportName = reportNameFor(ref.object);
  const reportUri = `gs://${ref.bucket}/${reportName}`;
  try {
    await deps.blobs.write(
      ref.bucket,
      reportName,
      `${JSON.stringify(report, null, 2)}\n`,
      'application/json',
    );
  } catch (writeError) {
    // The event still goes out: it carries the reason itself.
    logger.error('the report of a failed upload could not be written', { reportUri, error: writeError });
  }
  const event = buildDatasetRejectedEvent(
    {
      jobId,
      source: { ...ref, manifest },
      reportUri,
      errorCount: 1,
      errors: [{ file: ref.object, code: 'processing_failed', message }],
    },
    { now, project: deps.config.project },
  );
  await deps.publisher.publish(event);
  return { reportUri };
}
