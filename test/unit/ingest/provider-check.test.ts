import { describe, expect, it } from 'vitest';
import { applyRowErrors, checkAtProvider } from '../../../functions/ingest-dataset/provider-check.ts';
import type { DatasetReport, IngestReport } from '../../../functions/ingest-dataset/report.ts';
import { TransientError } from '../../../shared/errors/index.ts';
import type { TuningSpec } from '../../../shared/jobs/model.ts';
import { createMemoryLogger } from '../../../shared/logging/index.ts';
import {
  type DatasetRowErrors,
  ProviderError,
  type TuningProvider,
} from '../../../shared/providers/index.ts';

const spec: TuningSpec = {
  baseModel: 'yandexgpt-lite',
  trainingDatasetUri: 'gs://b/validated/j/training/d.jsonl#1',
  labels: {},
  provider: 'yandex',
};

function datasets(): IngestReport['datasets'] {
  const report = { valid: true, errors: [], errorsOmitted: 0, uri: 'gs://b/incoming/d.jsonl' };
  return { training: report as unknown as DatasetReport };
}

const refusal = (rows: number[], role: DatasetRowErrors['role'] = 'train'): DatasetRowErrors => ({
  '@type': 'tunedrop.yandex.DatasetValidationError',
  role,
  error: 'TOO_MANY_TOKENS',
  description: 'the example is too long',
  rowNumbers: rows,
});

const provider = (prepare: TuningProvider['prepareDatasets']) =>
  ({ name: 'vertex', prepareDatasets: prepare }) as unknown as TuningProvider;

describe("the provider's own check at ingest", () => {
  it("turns the provider's refused rows into report errors with their line numbers", () => {
    const reports = datasets();
    const problems = applyRowErrors(reports, [refusal([7, 2])], 'yandex');
    expect(problems).toEqual([]);
    expect(reports.training?.valid).toBe(false);
    expect(reports.training?.errors).toEqual([
      {
        line: 2,
        code: 'yandex_too_many_tokens',
        path: '',
        message: 'yandex refused this row: the example is too long',
      },
      {
        line: 7,
        code: 'yandex_too_many_tokens',
        path: '',
        message: 'yandex refused this row: the example is too long',
      },
    ]);
  });

  it('lists at most 100 rows per refusal and counts the rest', () => {
    const reports = datasets();
    applyRowErrors(reports, [refusal(Array.from({ length: 150 }, (_, i) => i + 1))], 'yandex');
    expect(reports.training?.errors).toHaveLength(100);
    expect(reports.training?.errorsOmitted).toBe(50);
  });

  it('reports a refusal without rows, or of a dataset without a report, as a problem', () => {
    const problems = applyRowErrors(datasets(), [refusal([]), refusal([3], 'validation')], 'yandex');
    expect(problems.map((problem) => problem.message)).toEqual([
      expect.stringContaining('yandex refused the train dataset'),
      expect.stringContaining('yandex refused the validation dataset'),
    ]);
  });

  it('returns the prepared dataset ids, and nothing for a provider without the step', async () => {
    expect(
      await checkAtProvider(
        provider(async () => ({ train: 'fds1' })),
        spec,
        'j',
        datasets(),
      ),
    ).toEqual({
      ok: true,
      datasets: { train: 'fds1' },
    });
    expect(await checkAtProvider({ name: 'vertex' } as TuningProvider, spec, 'j', datasets())).toEqual({
      ok: true,
    });
  });

  it('makes a permanent refusal report content, and rethrows a transient failure (retried)', async () => {
    const refused = new ProviderError('rejected', 400, 'INVALID_ARGUMENT', false, [refusal([1])]);
    const reports = datasets();
    const result = await checkAtProvider(
      provider(async () => {
        throw refused;
      }),
      spec,
      'j',
      reports,
    );
    expect(result).toEqual({ ok: false, problems: [], rows: true });
    expect(reports.training?.errors[0]?.line).toBe(1);

    const gone = new ProviderError('DatasetService: dataset is gone', 404, 'NOT_FOUND', false);
    expect(
      await checkAtProvider(
        provider(async () => {
          throw gone;
        }),
        spec,
        'j',
        datasets(),
      ),
    ).toEqual({
      ok: false,
      problems: [{ path: '', message: 'DatasetService: dataset is gone' }],
      rows: false,
    });

    const busy = new ProviderError('quota', 429, 'RESOURCE_EXHAUSTED', true);
    await expect(
      checkAtProvider(
        provider(async () => {
          throw busy;
        }),
        spec,
        'j',
        datasets(),
      ),
    ).rejects.toBe(busy);
  });

  it.each([
    [403, 'PERMISSION_DENIED'],
    [401, 'UNAUTHENTICATED'],
  ])(
    'treats a refusal of its own credentials (%i %s) as a configuration problem: ERROR log, retried, no rejection',
    async (httpStatus, status) => {
      const logger = createMemoryLogger('ingest');
      const denied = new ProviderError(`DatasetService: ${status}`, httpStatus, status, false);
      await expect(
        checkAtProvider(
          provider(async () => {
            throw denied;
          }),
          spec,
          'j',
          datasets(),
          logger,
        ),
      ).rejects.toBeInstanceOf(TransientError);
      expect(logger.entries).toEqual([expect.objectContaining({ severity: 'ERROR', jobId: 'j', status })]);
    },
  );
});
