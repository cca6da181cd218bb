/**
 * The contract every tuning provider implements (Vertex AI now, Yandex later). The pipeline only
 * speaks in these terms; provider states are mapped to tunedrop's JobState by the provider.
 */
import type {
  JobError,
  JobState,
  Progress,
  TuningDataStats,
  TuningResult,
  TuningSpec,
} from '../jobs/model.ts';

export interface ProviderJob {
  /** The provider's full resource name, e.g. projects/P/locations/L/tuningJobs/123. */
  name: string;
  /** The provider's own state string, e.g. JOB_STATE_RUNNING. */
  providerState: string;
  /** The provider state mapped to tunedrop's model. */
  state: JobState;
  labels: Record<string, string>;
  createTime?: string;
  updateTime?: string;
  progress?: Progress;
  result?: TuningResult;
  /** The provider's figures about the dataset (examples dropped and why), once it has read it. */
  tuningDataStats?: TuningDataStats;
  error?: JobError;
}

/**
 * How much of a list filter the provider honours, from most to least selective. The Vertex list
 * filter is undocumented (shared/providers/vertex/filter.ts), so the client falls back one step
 * each time Vertex answers a filter with 400 INVALID_ARGUMENT, and remembers the step per process:
 * - `labels`: the label filter (every job tunedrop manages, or one record's job);
 * - `state`: a state-only filter; labels are checked on each page by the client, and a listing
 *   asked for no particular states covers the non-terminal ones only (`coveredStates`);
 * - `unfiltered`: no filter at all, every job of the location, labels checked by the client;
 * - `per-job`: the list itself is unusable; callers fetch the jobs they know by name.
 */
export const listScopes = ['labels', 'state', 'unfiltered', 'per-job'] as const;
export type ListScope = (typeof listScopes)[number];

export interface ListJobsOptions {
  /**
   * At least this fallback step (a later page of a listing passes the scope its first page came
   * with, so its page token matches its filter). The provider may use a later step, never an earlier.
   */
  scope?: ListScope;
  /** Only jobs carrying all these labels. */
  labels?: Record<string, string>;
  /** Only jobs in one of these provider-neutral states. */
  states?: JobState[];
  /** Only jobs created at or after this RFC 3339 time. */
  createdAfter?: string;
  pageSize?: number;
  pageToken?: string;
}

export interface JobPage {
  jobs: ProviderJob[];
  nextPageToken?: string;
  /** The fallback step this page was listed with (`labels` when the provider has no fallback). */
  scope?: ListScope;
  /** Set when the page holds only jobs in these states (a state-only filter): others were not listed. */
  coveredStates?: JobState[];
}

/** The provider's ids of a job's datasets, uploaded and accepted before the job exists (Yandex). */
export interface PreparedDatasets {
  train: string;
  validation?: string;
}

/** What a create may reuse: datasets prepared (uploaded and validated) at ingest. */
export interface CreateJobContext {
  datasets?: PreparedDatasets;
}

/**
 * The label that carries the deployment's identity (config deploymentId) on what tunedrop creates
 * at a provider folder several deployments may share: each lists, adopts, cancels and frees only
 * what carries its own value.
 */
export const deploymentLabel = 'tunedrop-deployment';

/** A dataset a provider holds for a tunedrop record (what deleteDataset frees). */
export interface HeldDataset {
  provider: string;
  id: string;
  recordId: string;
  /**
   * Its deploymentLabel value: whose it is. Absent on a dataset made by a tunedrop that did not
   * label per deployment yet: it may be anyone's, so a sweep deletes it only when one of its own
   * records names it (DeleteDatasetOptions).
   */
  deployment?: string;
  createTime?: string;
}

export interface DeleteDatasetOptions {
  /**
   * The caller found the dataset's id in one of this deployment's records (`provider.datasets`):
   * proof that a dataset made before deployments were labelled is this deployment's to free.
   */
  namedByOwnRecord?: boolean;
}

export interface FindJobOptions {
  /**
   * The job cannot be older than this (the record's create intent): a lookup without a label
   * filter stops paging once the listing has gone back past it (less a clock-skew margin).
   */
  createdAfter?: string;
}

export interface TuningProvider {
  readonly name: string;
  /**
   * Starts a job. Not idempotent: callers record intent first and label the job with `recordId`.
   * `context.datasets` are datasets prepareDatasets made for this record: reused, not uploaded again.
   */
  createJob(spec: TuningSpec, recordId: string, context?: CreateJobContext): Promise<ProviderJob>;
  /**
   * Uploads a job's validated datasets to the provider and waits for the provider's own check,
   * before any job exists (providers that keep datasets apart from jobs: Yandex). A refusal is a
   * permanent ProviderError whose details carry the rows (DatasetRowErrors); undefined when the
   * provider reads datasets from the bucket at create (Vertex AI).
   */
  prepareDatasets?(spec: TuningSpec, recordId: string): Promise<PreparedDatasets | undefined>;
  /** Every dataset the provider holds for a tunedrop record (to free those no longer needed). */
  heldDatasets?(): Promise<HeldDataset[]>;
  /** Deletes a held dataset; one already gone is not an error. */
  deleteDataset?(dataset: HeldDataset, options?: DeleteDatasetOptions): Promise<void>;
  getJob(name: string): Promise<ProviderJob>;
  listJobs(options?: ListJobsOptions): Promise<JobPage>;
  /** The job labelled with this record id, if one exists: what a retry adopts instead of creating. */
  findJobByRecordId(recordId: string, options?: FindJobOptions): Promise<ProviderJob | undefined>;
  /** Every job labelled with this record id (more than one only after a duplicate create). */
  findJobsByRecordId?(recordId: string, options?: FindJobOptions): Promise<ProviderJob[]>;
  cancelJob(name: string): Promise<void>;
  /**
   * What the provider says about a tuned model (continuous tuning): undefined when it does not
   * exist; `baseModel` as the provider names it, when it does.
   */
  describeTunedModel?(name: string): Promise<{ baseModel?: string } | undefined>;
  /** The list fallback step this process currently uses, for poll summaries (none: always `labels`). */
  listScope?(): ListScope;
  /** HTTP requests made so far by this provider (a fallback or a lookup may take several per method call). */
  requestCount?(): number;
}

/** One kind of row error in a provider's refusal of a dataset (ProviderError details). */
export interface DatasetRowErrors {
  '@type': 'tunedrop.yandex.DatasetValidationError';
  role: 'train' | 'validation';
  error: string;
  description: string;
  /** As the provider numbers them (the emulator: 1-based lines). */
  rowNumbers: number[];
}

export function isDatasetRowErrors(detail: unknown): detail is DatasetRowErrors {
  return (
    typeof detail === 'object' &&
    detail !== null &&
    (detail as { '@type'?: unknown })['@type'] === 'tunedrop.yandex.DatasetValidationError'
  );
}

/**
 * A failed provider call, typed from the provider's error envelope. `transient` is true for 429,
 * 5xx, timeouts and network failures (retry later); false for 4xx (report and stop).
 */
export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  constructor(
    message: string,
    readonly httpStatus: number,
    readonly status: string,
    readonly transient: boolean,
    readonly details: unknown[] = [],
  ) {
    super(message);
  }
}

/**
 * The provider cannot list jobs at all (every filter, and no filter, was refused): the caller
 * fetches the jobs it knows by name. Permanent for this process; a lookup by label cannot be
 * answered, so an interrupted start stays unresolved (and is reported) instead of creating again.
 */
export class ListUnavailableError extends ProviderError {
  constructor(message: string) {
    super(message, 400, 'FAILED_PRECONDITION', false);
  }
}

/**
 * A label lookup without a label filter could not prove the job absent within its page budget
 * (the listing is not in creation order, or holds too many jobs newer than the intent).
 * Transient: a later attempt may succeed; the caller counts attempts.
 */
export class LookupInconclusiveError extends ProviderError {
  constructor(message: string) {
    super(message, 0, 'LOOKUP_INCONCLUSIVE', true);
  }
}
