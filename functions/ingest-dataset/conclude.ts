/**
 * The end of an ingest: the report is written, then the upload is rejected (dataset.rejected, no
 * job) or its job record is created and started or drafted (proceed). Shared by every kind of drop.
 */
import type { ValidationReport } from '../../shared/dataset/index.ts';
import {
  buildDatasetRejectedEvent,
  type DatasetErrorSample,
  publishPending,
  withCreationEvent,
} from '../../shared/events/index.ts';
import { approvalDecision } from '../../shared/jobs/approval.ts';
import { type FieldIssue, formatIssue } from '../../shared/jobs/manifest.ts';
import {
  type CostEstimate,
  isTerminal,
  type JobRecord,
  JobRecord as JobRecordSchema,
  type TuningSpec,
} from '../../shared/jobs/model.ts';
import { rejectionRecordFrom } from '../../shared/jobs/rejection.ts';
import { startDepsFrom, startJob } from '../../shared/jobs/start-job.ts';
import type { Logger } from '../../shared/logging/index.ts';
import type { PreparedDatasets } from '../../shared/providers/types.ts';
import { reportNameFor } from '../../shared/storage/index.ts';
import type { IngestDeps, IngestOutcome } from './ingest.ts';
import * as logs from './logs.ts';
import { type Pins, pinnedSummary } from './pinning.ts';
import { checkAtProvider } from './provider-check.ts';
import type { DatasetReport, IngestReport } from './report.ts';
import { reportFormatVersion } from './report.ts';

export interface Ref {
  bucket: string;
  object: string;
  generation: string;
}

export const gsUri = (bucket: string, name: string) => `gs://${bucket}/${name}`;

/** The job record's estimate from the training report; none when the model has no price. */
function jobEstimate(report: ValidationReport): CostEstimate | undefined {
  const cost = report.stats.estimate.cost;
  if (
    !cost ||
    cost.estimatedUsd === null ||
    cost.pricePerMillionTrainingTokens === null ||
    !cost.pricesTakenOn
  ) {
    return undefined;
  }
  return dropUndefined({
    billableTokens: cost.billableTokens.estimated,
    epochs: cost.epochs,
    usdPerMillionTokens: cost.pricePerMillionTrainingTokens,
    costUsd: cost.estimatedUsd,
    method: cost.method,
    priceDate: cost.pricesTakenOn,
    priceSource: cost.priceSource ?? undefined,
  });
}

export function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
}

export function baseReport(
  deps: IngestDeps,
  ref: Ref,
  jobId: string,
  kind: IngestReport['kind'],
  status: IngestReport['status'],
  problems: FieldIssue[],
  notes: string[],
): IngestReport {
  return {
    reportFormatVersion,
    status,
    kind,
    object: gsUri(ref.bucket, ref.object),
    generation: ref.generation,
    jobId,
    time: deps.clock().toISOString(),
    problems: problems.map(formatIssue),
    notes,
    datasets: {},
  };
}

export async function writeReport(deps: IngestDeps, ref: Ref, report: IngestReport): Promise<string> {
  const name = reportNameFor(ref.object);
  await deps.blobs.write(ref.bucket, name, `${JSON.stringify(report, null, 2)}\n`, 'application/json');
  return gsUri(ref.bucket, name);
}

export interface Findings {
  kind: IngestReport['kind'];
  problems: FieldIssue[];
  notes: string[];
  spec?: TuningSpec;
  policy?: JobRecord['approval']['policy'];
  datasets: IngestReport['datasets'];
  /** The pinned copies the datasets were validated from (the spec names them). */
  pins?: Pins;
}

/** Writes the report, then rejects (event, no job) or creates the job and starts or drafts it. */
export async function conclude(
  deps: IngestDeps,
  logger: Logger,
  ref: Ref,
  jobId: string,
  findings: Findings,
): Promise<IngestOutcome> {
  const { problems, datasets } = findings;
  const reports = [datasets.training, datasets.validation].filter((item): item is DatasetReport => !!item);
  let rejected =
    problems.length > 0 || reports.some((report) => !report.valid) || !findings.spec || !findings.policy;
  // Valid here: the provider's own check, where it has one (Yandex), before any record exists.
  // A redelivery for a record that exists already skips it (its datasets are on the record).
  let prepared: PreparedDatasets | undefined;
  if (!rejected && findings.spec && deps.provider.prepareDatasets && !(await deps.store.get(jobId))) {
    const check = await checkAtProvider(deps.provider, findings.spec, jobId, datasets, logger);
    if (check.ok) prepared = check.datasets;
    else if (!check.rows && (await deps.store.get(jobId))) {
      // A duplicate delivery lost a race with the one that prepared the datasets and created the
      // record: the job stands, and this delivery goes on as the duplicate it is (no rejection).
      logs.logDuplicateAfterProviderCheck(logger, ref, jobId, check.problems);
    } else {
      problems.push(...check.problems);
      rejected = true;
      logs.logProviderRefused(logger, ref, jobId, check.problems.length);
    }
  }
  const report = baseReport(
    deps,
    ref,
    jobId,
    findings.kind,
    rejected ? 'rejected' : 'accepted',
    problems,
    findings.notes,
  );
  report.datasets = datasets;
  if (findings.spec) report.spec = findings.spec;
  logs.logWarnings(logger, ref, findings.notes);

  if (rejected) {
    const reportUri = await writeReport(deps, ref, report);
    const errors: DatasetErrorSample[] = [
      ...problems.map((issue) => ({
        file: ref.object,
        ...(issue.path ? { field: issue.path } : {}),
        code: 'invalid_setting',
        message: issue.message,
      })),
      ...reports.flatMap((dataset) =>
        dataset.errors.map((error) => ({
          file: dataset.uri,
          ...(error.line > 0 ? { line: error.line } : {}),
          ...(error.path ? { field: error.path } : {}),
          code: error.code,
          message: error.message,
        })),
      ),
    ];
    const errorCount =
      problems.length +
      reports.reduce((sum, dataset) => sum + dataset.errors.length + dataset.errorsOmitted, 0);
    if (problems.length > 0) logs.logSettingsInvalid(logger, ref, problems);
    const now = deps.clock();
    const event = buildDatasetRejectedEvent(
      {
        jobId,
        source: {
          bucket: ref.bucket,
          object: ref.object,
          generation: ref.generation,
          manifest: findings.kind === 'manifest',
        },
        reportUri,
        errorCount,
        errors,
      },
      { now, project: deps.config.project },
    );
    // Recorded first (findable even while the publish is retried), then published directly (the
    // record holds no outbox); a failure throws, the event is redelivered, and the same event id
    // is published again.
    await deps.rejections?.create(rejectionRecordFrom(event));
    await deps.publisher.publish(event);
    logs.logRejected(logger, ref, jobId, errorCount, reportUri);
    return { outcome: 'rejected', jobId, reportUri, errorCount };
  }

  const spec = findings.spec!;
  const policy = findings.policy!;
  const training = datasets.training!;
  const estimate = jobEstimate(training);
  const decision = approvalDecision(
    policy,
    estimate?.costUsd ?? training.stats.estimate.cost?.estimatedUsd ?? null,
    deps.config.autoApproveMaxUsd ?? null,
  );
  const { required } = decision;
  report.approval = dropUndefined({ policy, required, reason: decision.reason });
  if (estimate) report.estimate = estimate;
  const reportUri = await writeReport(deps, ref, report);

  const now = deps.clock();
  const time = now.toISOString();
  const state = required ? 'DRAFT' : 'QUEUED';
  let record: JobRecord = JobRecordSchema.parse(
    dropUndefined({
      id: jobId,
      state,
      createTime: time,
      updateTime: time,
      stateTime: time,
      source: {
        bucket: ref.bucket,
        object: ref.object,
        generation: ref.generation,
        manifest: findings.kind === 'manifest',
      },
      spec,
      approval: dropUndefined({ policy, required, reason: decision.reason }),
      validation: dropUndefined({
        reportUri,
        examples: training.examples,
        validationExamples: datasets.validation?.examples,
        warnings: reports.reduce(
          (sum, dataset) => sum + dataset.warnings.length + dataset.warningsOmitted,
          0,
        ),
        pinned: findings.pins?.training && {
          training: pinnedSummary(findings.pins.training),
          ...(findings.pins.validation ? { validation: pinnedSummary(findings.pins.validation) } : {}),
        },
        priceBasis: training.stats.estimate.cost?.basis,
        droppableExamples: training.stats.droppable,
      }),
      estimate,
      provider: { name: spec.provider ?? deps.provider.name, ...(prepared ? { datasets: prepared } : {}) },
      attempts: 0,
      history: [
        {
          state,
          time,
          reason: required ? `awaiting approval: ${decision.reason ?? 'required'}` : 'validated; starting',
        },
      ],
      outbox: [],
    }),
  );
  record = withCreationEvent(record, { now, project: deps.config.project });
  const { created, job } = await deps.store.create(record);
  if (created) logs.logJobCreated(logger, ref, job);
  else logs.logDuplicate(logger, ref, job);
  return { outcome: 'job', job: await proceed(deps, job), created };
}

/** Takes a record as far as ingest can: starts (or resumes starting) it, or flushes its events. */
export async function proceed(deps: IngestDeps, job: JobRecord): Promise<JobRecord> {
  const awaitingApproval = job.state === 'DRAFT' && !job.approval.approveTime;
  if (!job.provider.jobName && !isTerminal(job.state) && !awaitingApproval) {
    const started = await startJob(startDepsFrom({ ...deps, ...deps.start }), job.id);
    logs.logJobOutcome(
      deps.logger,
      { bucket: job.source.bucket, object: job.source.object, generation: job.source.generation },
      started,
    );
    return started;
  }
  await publishPending(deps.store, deps.publisher, job.id, deps.logger, { now: deps.clock });
  return (await deps.store.get(job.id)) ?? job;
}
