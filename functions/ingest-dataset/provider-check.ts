/**
 * The provider's own check of a job's datasets, at ingest (Yandex: upload + DatasetService.Validate,
 * before any job exists), so what the provider refuses reaches the report with its row numbers,
 * like a local validation error, and the upload is rejected (dataset.rejected, no job, no retry).
 * A transient failure (quota, unavailable, validation still running) throws: the event is
 * redelivered and the next attempt resumes (the provider finds its dataset by the record id).
 * So does a refusal of tunedrop's own credentials (401 UNAUTHENTICATED, 403 PERMISSION_DENIED):
 * nothing in the upload is wrong, fixing IAM makes the retry succeed (as classify.ts treats gRPC
 * PERMISSION_DENIED from Firestore), so it is an ERROR log for the operator, not a rejection.
 */
import { TransientError } from '../../shared/errors/index.ts';
import type { FieldIssue } from '../../shared/jobs/manifest.ts';
import type { TuningSpec } from '../../shared/jobs/model.ts';
import type { Logger } from '../../shared/logging/index.ts';
import {
  type DatasetRowErrors,
  isDatasetRowErrors,
  type PreparedDatasets,
  ProviderError,
  type TuningProvider,
} from '../../shared/providers/types.ts';
import { logProviderConfiguration } from './logs.ts';
import type { IngestReport } from './report.ts';

/** Rows listed per refusal at most: the rest are counted in errorsOmitted. */
const maxRowsListed = 100;

/** `rows`: the provider refused rows of the datasets (not some other permanent failure). */
export type ProviderCheck =
  | { ok: true; datasets?: PreparedDatasets }
  | { ok: false; problems: FieldIssue[]; rows: boolean };

/** tunedrop's deployment, not the upload: its credentials or IAM roles at the provider. */
const configurationStatuses = new Set([401, 403]);

/**
 * Folds a provider's refusal into the dataset reports: one error per refused row, 1-based line
 * numbers as the provider gives them, the report marked invalid. Returns the refusals that name
 * no rows (or a dataset with no report) as problems.
 */
export function applyRowErrors(
  datasets: IngestReport['datasets'],
  refusals: readonly DatasetRowErrors[],
  provider: string,
): FieldIssue[] {
  const problems: FieldIssue[] = [];
  for (const refusal of refusals) {
    const report = refusal.role === 'train' ? datasets.training : datasets.validation;
    const message = `${provider} refused this row: ${refusal.description || refusal.error}`;
    if (!report || refusal.rowNumbers.length === 0) {
      problems.push({ path: '', message: `${provider} refused the ${refusal.role} dataset: ${message}` });
      continue;
    }
    report.valid = false;
    const rows = [...refusal.rowNumbers].sort((a, b) => a - b);
    for (const row of rows.slice(0, maxRowsListed)) {
      report.errors.push({
        line: row,
        code: `${provider}_${refusal.error || 'invalid'}`.toLowerCase(),
        path: '',
        message,
      });
    }
    report.errorsOmitted += Math.max(0, rows.length - maxRowsListed);
  }
  return problems;
}

/** Asks the provider to take and check the datasets; a permanent refusal becomes report content. */
export async function checkAtProvider(
  provider: TuningProvider,
  spec: TuningSpec,
  jobId: string,
  datasets: IngestReport['datasets'],
  logger?: Logger,
): Promise<ProviderCheck> {
  if (!provider.prepareDatasets) return { ok: true };
  try {
    const prepared = await provider.prepareDatasets(spec, jobId);
    return prepared ? { ok: true, datasets: prepared } : { ok: true };
  } catch (error) {
    if (!(error instanceof ProviderError) || error.transient) throw error;
    const name = spec.provider ?? provider.name;
    const refusals = error.details.filter(isDatasetRowErrors);
    if (refusals.length > 0)
      return { ok: false, problems: applyRowErrors(datasets, refusals, name), rows: true };
    if (configurationStatuses.has(error.httpStatus)) {
      if (logger)
        logProviderConfiguration(logger, {
          jobId,
          provider: name,
          status: error.status,
          error: error.message,
        });
      throw new TransientError(`${error.message} (a configuration problem)`, 'provider-configuration', {
        cause: error,
      });
    }
    return { ok: false, problems: [{ path: '', message: error.message }], rows: false };
  }
}
