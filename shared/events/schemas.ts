/**
 * Every event tunedrop publishes, as zod schemas, in this one place: the types are inferred from
 * them, the outbox validates against them, and docs/events.md is generated from them
 * (`npm run docs:events`). Changing a schema here is a versioned change (see `versioningRules`).
 *
 * Envelope: CloudEvents 1.0, structured JSON mode.
 */
import { z } from 'zod';
import {
  CostEstimate,
  HistoryEntry,
  JobError,
  JobRecord,
  JobSource,
  JobState,
  Progress,
  type publicView,
  TuningDataStats,
  TuningResult,
  TuningSpec,
  ValidationSummary,
} from '../jobs/model.ts';

export const eventTypePrefix = 'tunedrop.v1.';

export const eventTypes = [
  'tunedrop.v1.dataset.rejected',
  'tunedrop.v1.job.drafted',
  'tunedrop.v1.job.started',
  'tunedrop.v1.job.running',
  'tunedrop.v1.job.succeeded',
  'tunedrop.v1.job.failed',
  'tunedrop.v1.job.cancelled',
  'tunedrop.v1.job.expired',
  'tunedrop.v1.job.stalled',
] as const;
export const EventType = z.enum(eventTypes);
export type EventType = z.infer<typeof EventType>;

export const jobEventTypes = eventTypes.filter((type) =>
  type.startsWith(`${eventTypePrefix}job.`),
) as Exclude<EventType, 'tunedrop.v1.dataset.rejected'>[];
export type JobEventType = Exclude<EventType, 'tunedrop.v1.dataset.rejected'>;

/** The CloudEvents 1.0 attributes every tunedrop event carries, with `data` left open. */
export const CloudEventEnvelope = z.object({
  specversion: z.literal('1.0').describe('CloudEvents version.'),
  id: z
    .string()
    .min(1)
    .describe('Stable for one logical event: a re-publish (retry, replay) carries the same id.'),
  source: z.string().min(1).describe('`//tunedrop/projects/{project}`.'),
  type: z.string().min(1).describe('`tunedrop.v1.<subject>.<verb>`.'),
  subject: z.string().min(1).describe('The job id (for dataset.rejected: the id the job would have had).'),
  time: z.iso.datetime().describe('When the change happened (RFC 3339, UTC).'),
  datacontenttype: z.literal('application/json'),
  replay: z
    .literal(true)
    .optional()
    .describe(
      'CloudEvents extension attribute, present (`true`) only on a copy re-published by `tunedrop jobs replay` (`POST /jobs/{id}:replay`): same `id` and `data` as the original. Pub/Sub attribute `replay=true` too.',
    ),
  data: z.unknown(),
});
export type CloudEvent = z.infer<typeof CloudEventEnvelope>;

/** The job's public view (`publicView` in shared/jobs/model.ts): what every job event carries. */
export const JobView = z.object({
  id: z.string().describe('The job id (32 hex characters, derived from bucket/object#generation).'),
  state: JobState.describe('The state after the change.'),
  createTime: z.string().describe('When the job record was created.'),
  updateTime: z.string().describe('When the job record last changed.'),
  source: JobSource.describe('The uploaded object that created the job.'),
  provider: z
    .enum(['vertex', 'yandex'])
    .optional()
    .describe(
      'Who runs the job: `vertex` (Vertex AI) or `yandex` (Yandex AI Studio). Always set since it was added; absent in events published before.',
    ),
  baseModel: z.string().describe('The model being tuned.'),
  spec: TuningSpec.describe('The tuning request.'),
  approval: JobRecord.shape.approval.describe('The approval policy applied and who approved.'),
  validation: ValidationSummary.describe('The dataset validation summary and report location.'),
  estimate: CostEstimate.optional().describe('The cost estimate, where one was made.'),
  providerJobName: z.string().optional().describe('The provider job resource name, once created.'),
  progress: Progress.optional().describe('Tuning steps done and total, where the provider reports them.'),
  result: TuningResult.optional().describe(
    'The tuned model and endpoint, on success; `checkpoints` lists the intermediate checkpoints (Vertex `tunedModel.checkpoints`: id, epoch, step, endpoint) as they are exported.',
  ),
  tuningDataStats: TuningDataStats.optional().describe(
    "The provider's own figures about the dataset, once it has read it (Vertex `tuningDataStats.supervisedTuningDataStats`): examples, billable tokens, steps, and the examples it dropped (`totalTruncatedExampleCount`, 1-based `truncatedExampleIndices` (a sample) and `droppedExampleReasons`). Added in v1 without a version change: optional.",
  ),
  error: JobError.optional().describe('The error, on failure.'),
  history: z.array(HistoryEntry).describe('Every state the job has been in, with times.'),
});
export type JobView = z.infer<typeof JobView>;

// publicView() and JobView must not drift apart: this line stops compiling if they do.
const _publicViewMatches = (view: ReturnType<typeof publicView>): z.input<typeof JobView> => view;
void _publicViewMatches;

export const JobDraftedData = JobView.extend({
  state: z.literal('DRAFT'),
  estimate: CostEstimate.optional().describe(
    'The cost estimate the approver decides on; absent only for a model without a published tuning price.',
  ),
});
export const JobStartedData = JobView.extend({ state: z.literal('PENDING') });
export const JobRunningData = JobView.extend({ state: z.literal('RUNNING') });
export const JobSucceededData = JobView.extend({
  state: z.literal('SUCCEEDED'),
  result: TuningResult.extend({
    tunedModel: z.string().min(1).describe('The tuned model resource name.'),
    endpoint: z
      .string()
      .optional()
      .describe('The endpoint serving the tuned model (always set by Vertex AI).'),
  }).describe('The tuned model and its endpoint.'),
});
export const JobFailedData = JobView.extend({
  state: z.literal('FAILED'),
  error: JobError.describe("The provider's (or tunedrop's) error: code, message, details."),
});
export const JobCancelledData = JobView.extend({ state: z.literal('CANCELLED') });
export const JobExpiredData = JobView.extend({ state: z.literal('EXPIRED') });
export const JobStalledData = JobView.extend({
  stalledSince: z.string().describe('When the job entered its current state.'),
  reason: z
    .string()
    .optional()
    .describe(
      'Why: no state change within the stall timeout, or the job could not be reconciled with the provider after a bounded number of attempts (then no longer retried; resolve it by hand).',
    ),
});

/** One validation error as the rejection event lists it. */
export const DatasetErrorSample = z.object({
  file: z.string().optional().describe('Which file (training, validation or manifest), when several.'),
  line: z.number().int().positive().optional().describe('1-based line of the JSONL file.'),
  field: z.string().optional().describe('Path of the offending field, e.g. `contents[1].role`.'),
  code: z.string().describe('Machine-readable rule id.'),
  message: z.string().describe('What is wrong, for a person.'),
});
export type DatasetErrorSample = z.infer<typeof DatasetErrorSample>;

/** At most this many errors ride in the event; the report has them all. */
export const maxErrorsInEvent = 10;

export const DatasetRejectedData = z.object({
  jobId: z.string().describe('The id the job would have had (also the event subject).'),
  source: JobSource.describe('The uploaded object that was rejected.'),
  reportUri: z.string().describe('gs:// URI of the full validation report.'),
  errorCount: z.number().int().nonnegative().describe('How many errors the validation found.'),
  errors: z.array(DatasetErrorSample).max(maxErrorsInEvent).describe('The first errors found.'),
});
export type DatasetRejectedData = z.infer<typeof DatasetRejectedData>;

const event = <T extends EventType, D extends z.ZodType>(type: T, data: D) =>
  CloudEventEnvelope.extend({ type: z.literal(type), data });

export const DatasetRejectedEvent = event('tunedrop.v1.dataset.rejected', DatasetRejectedData);
export const JobDraftedEvent = event('tunedrop.v1.job.drafted', JobDraftedData);
export const JobStartedEvent = event('tunedrop.v1.job.started', JobStartedData);
export const JobRunningEvent = event('tunedrop.v1.job.running', JobRunningData);
export const JobSucceededEvent = event('tunedrop.v1.job.succeeded', JobSucceededData);
export const JobFailedEvent = event('tunedrop.v1.job.failed', JobFailedData);
export const JobCancelledEvent = event('tunedrop.v1.job.cancelled', JobCancelledData);
export const JobExpiredEvent = event('tunedrop.v1.job.expired', JobExpiredData);
export const JobStalledEvent = event('tunedrop.v1.job.stalled', JobStalledData);

export const TunedropEvent = z.discriminatedUnion('type', [
  DatasetRejectedEvent,
  JobDraftedEvent,
  JobStartedEvent,
  JobRunningEvent,
  JobSucceededEvent,
  JobFailedEvent,
  JobCancelledEvent,
  JobExpiredEvent,
  JobStalledEvent,
]);
export type TunedropEvent = z.infer<typeof TunedropEvent>;
export type DatasetRejectedEvent = z.infer<typeof DatasetRejectedEvent>;
export type JobEvent = Exclude<TunedropEvent, DatasetRejectedEvent>;
export type JobSucceededEvent = z.infer<typeof JobSucceededEvent>;
export type JobFailedEvent = z.infer<typeof JobFailedEvent>;

export interface EventDescription {
  type: EventType;
  schema: z.ZodType;
  data: z.ZodType;
  /** What it means, for docs/events.md. */
  meaning: string;
}

export const eventCatalog: Record<EventType, EventDescription> = {
  'tunedrop.v1.dataset.rejected': {
    type: 'tunedrop.v1.dataset.rejected',
    schema: DatasetRejectedEvent,
    data: DatasetRejectedData,
    meaning:
      'An uploaded dataset or manifest failed validation: no job was created. The report lists every error; the event the first few.',
  },
  'tunedrop.v1.job.drafted': {
    type: 'tunedrop.v1.job.drafted',
    schema: JobDraftedEvent,
    data: JobDraftedData,
    meaning:
      'A valid dataset became a DRAFT job awaiting approval (manual policy, or the estimate is over budget). Carries the cost estimate.',
  },
  'tunedrop.v1.job.started': {
    type: 'tunedrop.v1.job.started',
    schema: JobStartedEvent,
    data: JobStartedData,
    meaning:
      'The provider accepted the tuning job (state PENDING). A job first seen already running or finished (a missed poll, an adopted job) skips this event: `job.running` and the terminal events imply it.',
  },
  'tunedrop.v1.job.running': {
    type: 'tunedrop.v1.job.running',
    schema: JobRunningEvent,
    data: JobRunningData,
    meaning: 'The provider reports the tuning job running.',
  },
  'tunedrop.v1.job.succeeded': {
    type: 'tunedrop.v1.job.succeeded',
    schema: JobSucceededEvent,
    data: JobSucceededData,
    meaning:
      "Tuning finished: `data.result` carries the tuned model, its endpoint and its checkpoints; `data.tuningDataStats` the provider's figures, including the examples it dropped.",
  },
  'tunedrop.v1.job.failed': {
    type: 'tunedrop.v1.job.failed',
    schema: JobFailedEvent,
    data: JobFailedData,
    meaning:
      'The job failed, at creation (a permanent provider error) or while tuning: `data.error` says why; `data.tuningDataStats`, when the provider read the dataset, says which examples it dropped (more than 10% dropped fails a Vertex job).',
  },
  'tunedrop.v1.job.cancelled': {
    type: 'tunedrop.v1.job.cancelled',
    schema: JobCancelledEvent,
    data: JobCancelledData,
    meaning: 'The job was cancelled (a draft rejected, or a provider job cancelled).',
  },
  'tunedrop.v1.job.expired': {
    type: 'tunedrop.v1.job.expired',
    schema: JobExpiredEvent,
    data: JobExpiredData,
    meaning:
      'The job gave up without a result: a draft not approved within `TUNEDROP_DRAFT_TTL_HOURS` (7 days by default), or a provider job that expired.',
  },
  'tunedrop.v1.job.stalled': {
    type: 'tunedrop.v1.job.stalled',
    schema: JobStalledEvent,
    data: JobStalledData,
    meaning:
      'The job has stayed in one non-terminal state longer than the configured stall timeout, or could not be reconciled with the provider after a bounded number of attempts (`data.reason`). Sent once per state the job stalls in.',
  },
};

export const versioningRules = [
  'The version is part of the type: `tunedrop.v1.job.succeeded`. Within v1, changes are additive only: new optional data fields, new event types. Subscribers must ignore fields they do not know.',
  'Removing or renaming a field, changing its type or meaning, or making an optional field required is a breaking change: it ships as a new type (`tunedrop.v2.…`), published alongside v1 for a deprecation period announced in the changelog.',
  'Event ids are stable for one logical event: `{subject}.{type without "tunedrop."}` (plus the state for `job.stalled`). Delivery is at least once: deduplicate on `id`.',
];

/** Parses a received event body strictly (unknown types and malformed data are rejected). */
export function parseEvent(json: unknown): TunedropEvent {
  return TunedropEvent.parse(json);
}
