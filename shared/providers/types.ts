/**
 * The contract every tuning provider implements (Vertex AI now, Yandex later). The pipeline only
 * speaks in these terms; provider states are mapped to tunedrop's JobState by the provider.
 */
import type { JobError, JobState, Progress, TuningResult, TuningSpec } from '../jobs/model.ts';

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
  error?: JobError;
}

export interface ListJobsOptions {
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
}

export interface TuningProvider {
  readonly name: string;
  /** Starts a job. Not idempotent: callers record intent first and label the job with `recordId`. */
  createJob(spec: TuningSpec, recordId: string): Promise<ProviderJob>;
  getJob(name: string): Promise<ProviderJob>;
  listJobs(options?: ListJobsOptions): Promise<JobPage>;
  /** The job labelled with this record id, if one exists: what a retry adopts instead of creating. */
  findJobByRecordId(recordId: string): Promise<ProviderJob | undefined>;
  cancelJob(name: string): Promise<void>;
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
