/**
 * The emulator's tuning jobs. A job stores only when things were asked of it (created, cancelled)
 * and what it will do (succeed, fail, stall); its state is computed from timestamps whenever it is
 * read, so thousands of jobs need no timers and nothing leaks when the server closes.
 *
 * Timeline of a job of `jobSeconds` T: PENDING for the first 20% of T, then RUNNING (the dataset
 * is read and tuningDataStats appear; one checkpoint per epoch), SUCCEEDED at T.
 */
import {
  computeDataStats,
  DatasetError,
  defaultEpochCount,
  localPathFor,
  type SupervisedTuningDataStats,
} from './dataset-stats.ts';
import { failedPrecondition, notFound } from './errors.ts';
import type { FilterSubject } from './filter.ts';
import type { CreateRequest } from './validate.ts';

export interface JobFate {
  fail: boolean;
  stallIn?: 'PENDING' | 'RUNNING';
}

interface StoredJob {
  id: bigint;
  parent: string;
  name: string;
  request: Record<string, unknown>;
  createdAt: number;
  epochCount: number;
  fate: JobFate;
  cancelAt?: number;
  stats?: SupervisedTuningDataStats;
  datasetError?: string;
  /** Settles when the dataset has been read (or found unreadable). */
  analysis: Promise<void>;
}

export interface JobStoreOptions {
  jobSeconds: number;
  bucketDir?: string;
  now?: () => number;
}

/** The TuningJob resource as the API returns it. */
export type TuningJob = Record<string, unknown> & { name: string; state: string };

const firstId = 1_000_000_000_000_000_000n;
const terminal = new Set(['JOB_STATE_SUCCEEDED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED']);
const iso = (ms: number) => new Date(ms).toISOString();

// Only input fields are echoed back; output fields in a create body are ignored, as Vertex does.
const inputFields = [
  'baseModel',
  'preTunedModel',
  'supervisedTuningSpec',
  'tunedModelDisplayName',
  'description',
  'labels',
  'encryptionSpec',
  'serviceAccount',
  'outputUri',
];

function normalizeRequest(body: Record<string, unknown>): Record<string, unknown> {
  const request: Record<string, unknown> = {};
  for (const field of inputFields)
    if (body[field] !== undefined) request[field] = structuredClone(body[field]);
  // int64 fields go out as strings whatever form they came in.
  const hyper = (request.supervisedTuningSpec as { hyperParameters?: Record<string, unknown> } | undefined)
    ?.hyperParameters;
  if (hyper?.epochCount !== undefined) hyper.epochCount = String(hyper.epochCount);
  return request;
}

export class JobStore {
  private readonly jobs = new Map<string, StoredJob>();
  private sequence = 0n;
  private readonly now: () => number;

  constructor(private readonly options: JobStoreOptions) {
    this.now = options.now ?? Date.now;
  }

  private get durationMs() {
    return Math.max(0, this.options.jobSeconds * 1000);
  }

  create(parent: string, request: CreateRequest, fate: JobFate): Promise<TuningJob> {
    this.sequence++;
    const id = firstId + this.sequence;
    const name = `${parent}/tuningJobs/${id}`;
    const job: StoredJob = {
      id,
      parent,
      name,
      request: normalizeRequest(request.body),
      createdAt: this.now(),
      epochCount: request.epochCount ?? defaultEpochCount,
      fate,
      analysis: Promise.resolve(),
    };
    job.analysis = this.analyse(job, request.trainingDatasetUri);
    this.jobs.set(name, job);
    return this.render(job);
  }

  private async analyse(job: StoredJob, uri: string): Promise<void> {
    try {
      job.stats = await computeDataStats(localPathFor(uri, this.options.bucketDir), uri, job.epochCount);
    } catch (error) {
      job.datasetError =
        error instanceof DatasetError ? error.message : `Unable to read ${uri}: ${String(error)}`;
    }
  }

  private find(name: string): StoredJob {
    const job = this.jobs.get(name);
    if (!job) throw notFound(`TuningJob ${name} not found.`);
    return job;
  }

  async get(name: string): Promise<TuningJob> {
    return this.render(this.find(name));
  }

  async cancel(name: string): Promise<void> {
    const job = this.find(name);
    await job.analysis;
    const state = this.timeline(job).at(-1)?.state ?? 'JOB_STATE_PENDING';
    if (terminal.has(state)) {
      throw failedPrecondition(`Cannot cancel TuningJob ${name} in state ${state}.`);
    }
    // Cancelling a job that is already CANCELLING changes nothing.
    job.cancelAt ??= this.now();
  }

  /** Every job of a parent, newest first, as filterable subjects and rendered resources. */
  async list(parent?: string): Promise<{ subject: FilterSubject; job: TuningJob; id: bigint }[]> {
    const selected = [...this.jobs.values()].filter((job) => parent === undefined || job.parent === parent);
    selected.sort((a, b) => (a.id > b.id ? -1 : a.id < b.id ? 1 : 0));
    return Promise.all(
      selected.map(async (stored) => {
        const job = await this.render(stored);
        const request = stored.request;
        const subject: FilterSubject = {
          name: job.name,
          state: job.state,
          labels: (request.labels as Record<string, string> | undefined) ?? {},
          createTime: job.createTime as string,
          updateTime: job.updateTime as string,
        };
        if (typeof request.baseModel === 'string') subject.baseModel = request.baseModel;
        if (typeof request.tunedModelDisplayName === 'string')
          subject.tunedModelDisplayName = request.tunedModelDisplayName;
        return { subject, job, id: stored.id };
      }),
    );
  }

  /**
   * Jobs of a project that hold a slot of its concurrent tuning jobs quota now: every job not yet
   * ended (PENDING, RUNNING, CANCELLING; a stalled job holds its slot for good). Synchronous, so a
   * create can count and add without another create slipping in between.
   */
  activeInProject(project: string): number {
    let active = 0;
    for (const job of this.jobs.values()) {
      if (!job.parent.startsWith(`projects/${project}/`)) continue;
      const state = this.timeline(job).at(-1)?.state ?? 'JOB_STATE_PENDING';
      if (!terminal.has(state)) active++;
    }
    return active;
  }

  reset(): void {
    this.jobs.clear();
  }

  get size(): number {
    return this.jobs.size;
  }

  /** The job's state changes up to now: [{state, at}], in order. */
  private timeline(job: StoredJob): { state: string; at: number }[] {
    const now = this.now();
    const runAt = job.createdAt + 0.2 * this.durationMs;
    const endAt = job.createdAt + this.durationMs;
    const planned: { state: string; at: number }[] = [{ state: 'JOB_STATE_PENDING', at: job.createdAt }];
    if (job.fate.stallIn !== 'PENDING') {
      if (job.datasetError) {
        planned.push({ state: 'JOB_STATE_FAILED', at: runAt });
      } else {
        planned.push({ state: 'JOB_STATE_RUNNING', at: runAt });
        if (job.fate.fail)
          planned.push({ state: 'JOB_STATE_FAILED', at: job.createdAt + 0.6 * this.durationMs });
        else if (!job.fate.stallIn) planned.push({ state: 'JOB_STATE_SUCCEEDED', at: endAt });
      }
    }
    let events = planned;
    if (job.cancelAt !== undefined) {
      const cancelAt = job.cancelAt;
      events = planned.filter((event) => event.at <= cancelAt);
      const cancelDelay = Math.min(1000, 0.1 * this.durationMs);
      events.push(
        { state: 'JOB_STATE_CANCELLING', at: cancelAt },
        { state: 'JOB_STATE_CANCELLED', at: cancelAt + cancelDelay },
      );
    }
    return events.filter((event) => event.at <= now);
  }

  private async render(job: StoredJob): Promise<TuningJob> {
    await job.analysis;
    const events = this.timeline(job);
    const current = events.at(-1) ?? { state: 'JOB_STATE_PENDING', at: job.createdAt };
    const started = events.find((event) => event.state === 'JOB_STATE_RUNNING');
    const ended = terminal.has(current.state) ? current.at : undefined;
    const [, project, location] = /^projects\/([^/]+)\/locations\/([^/]+)$/.exec(job.parent) ?? [];
    const resource: TuningJob = {
      name: job.name,
      ...job.request,
      state: current.state,
      createTime: iso(job.createdAt),
      updateTime: iso(current.at),
    };
    if (started) {
      resource.startTime = iso(started.at);
      resource.experiment = `projects/${project}/locations/${location}/metadataStores/default/contexts/tuning-experiment-${job.id}`;
      if (job.stats) {
        resource.tuningDataStats = { supervisedTuningDataStats: job.stats };
        // A stalled job takes no checkpoints: "never progresses" includes its step counter.
        const until = job.fate.stallIn ? started.at : Math.min(this.now(), ended ?? Number.POSITIVE_INFINITY);
        const checkpoints = this.checkpoints(job, started.at, until);
        const lastCheckpoint = checkpoints.at(-1);
        if (lastCheckpoint && lastCheckpoint.at > current.at) resource.updateTime = iso(lastCheckpoint.at);
        const tunedModel: Record<string, unknown> = {};
        if (current.state === 'JOB_STATE_SUCCEEDED') {
          tunedModel.model = `projects/${project}/locations/${location}/models/${job.id + 1_000_000_000n}@1`;
          tunedModel.endpoint = `projects/${project}/locations/${location}/endpoints/${job.id + 2_000_000_000n}`;
        }
        if (checkpoints.length)
          tunedModel.checkpoints = checkpoints.map(({ at: _at, ...checkpoint }) => checkpoint);
        if (Object.keys(tunedModel).length) resource.tunedModel = tunedModel;
      }
    }
    if (ended !== undefined) resource.endTime = iso(ended);
    if (current.state === 'JOB_STATE_CANCELLED') {
      resource.error = { code: 1, message: 'CANCELED' };
    } else if (current.state === 'JOB_STATE_FAILED') {
      resource.error = job.datasetError
        ? { code: 3, message: `Failed to read the training dataset: ${job.datasetError}` }
        : { code: 13, message: 'Internal error encountered. The tuning job failed (emulated fault).' };
    }
    return resource;
  }

  /** One checkpoint per epoch, taken evenly across the running time, up to `until`. */
  private checkpoints(job: StoredJob, runAt: number, until: number) {
    const endAt = job.createdAt + this.durationMs;
    const totalSteps = Number(job.stats?.tuningStepCount ?? 0);
    const stepsPerEpoch = Math.max(1, Math.round(totalSteps / job.epochCount));
    const out: { checkpointId: string; epoch: string; step: string; at: number }[] = [];
    for (let epoch = 1; epoch <= job.epochCount; epoch++) {
      const at = runAt + ((endAt - runAt) * epoch) / job.epochCount;
      if (at > until) break;
      out.push({
        checkpointId: String(epoch),
        epoch: String(epoch),
        step: String(stepsPerEpoch * epoch),
        at,
      });
    }
    return out;
  }
}
