/**
 * The emulator's tuning jobs. A job stores only when things were asked of it (created, cancelled)
 * and what it will do (succeed, fail, stall); its state is computed from timestamps whenever it is
 * read, so thousands of jobs need no timers and nothing leaks when the server closes.
 *
 * Timeline of a job of `jobSeconds` T: PENDING for the first 20% of T, then RUNNING (the dataset
 * is read and tuningDataStats appear; checkpoints as checkpoints.ts schedules them), SUCCEEDED at
 * T. A job whose dataset cannot be read, or drops more than 10% of its examples, FAILS at 20% of T
 * without ever RUNNING: Vertex fails such a job "before the start of training".
 *
 * A succeeded job's tuned model (`tunedModel.model`, `projects/…/models/ID@VERSION`) can be the
 * `preTunedModel` of a later job (continuous tuning): that job's model is a new version of the same
 * model, or a new model at version 1 when it names a different `tunedModelDisplayName`.
 */
import type { CatalogModel } from '../../shared/models/index.ts';
import { checkpointEpochs, epochEnd } from './checkpoints.ts';
import {
  computeDataStats,
  DatasetError,
  defaultEpochCount,
  localPathFor,
  type SupervisedTuningDataStats,
} from './dataset-stats.ts';
import { failedPrecondition, notFound } from './errors.ts';
import type { FilterSubject } from './filter.ts';
import type { CreateRequest, TunedModelInfo } from './validate.ts';

/** Vertex fails a job when more than this share of its examples is dropped. */
export const maxDroppedShare = 0.1;

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
  /** The bare id of the base model the job (or the chain it continues) tunes. */
  baseModelId: string;
  model: CatalogModel;
  /** The model this job produces on success. */
  output: { modelId: string; version: number };
  lastCheckpointOnly: boolean;
  cancelAt?: number;
  stats?: SupervisedTuningDataStats;
  datasetError?: string;
  /** Set when more than maxDroppedShare of the examples were dropped. */
  dropError?: string;
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
  'preferenceOptimizationSpec',
  'tunedModelDisplayName',
  'description',
  'labels',
  'encryptionSpec',
  'serviceAccount',
];

function normalizeRequest(body: Record<string, unknown>): Record<string, unknown> {
  const request: Record<string, unknown> = {};
  for (const field of inputFields)
    if (body[field] !== undefined) request[field] = structuredClone(body[field]);
  // The body is canonical proto3 JSON already (proto-json.ts): int64 strings, enum names.
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
      epochCount: request.epochCount ?? request.model.defaultEpochs ?? defaultEpochCount,
      fate,
      baseModelId: request.preTuned?.baseModel ?? request.model.id,
      model: request.model,
      output: this.outputModel(id, request),
      lastCheckpointOnly: request.exportLastCheckpointOnly,
      analysis: Promise.resolve(),
    };
    job.analysis = this.analyse(job, request.trainingDatasetUri);
    this.jobs.set(name, job);
    return this.render(job);
  }

  /** A new model at version 1, or the next version of the pre-tuned model it continues. */
  private outputModel(id: bigint, request: CreateRequest): StoredJob['output'] {
    const own = { modelId: String(id + 1_000_000_000n), version: 1 };
    const pre = request.preTuned;
    if (!pre) return own;
    const displayName = request.body.tunedModelDisplayName;
    if (displayName !== undefined && displayName !== pre.displayName) return own;
    const modelId = /\/models\/([^/@]+)/.exec(pre.name)?.[1] as string;
    let version = 0;
    for (const job of this.jobs.values())
      if (job.output.modelId === modelId) version = Math.max(version, job.output.version);
    return { modelId, version: version + 1 };
  }

  private async analyse(job: StoredJob, uri: string): Promise<void> {
    try {
      const limit = job.model.limits.maxTokensPerExample;
      const analysis = await computeDataStats(
        localPathFor(uri, this.options.bucketDir),
        uri,
        job.epochCount,
        limit,
      );
      job.stats = analysis.stats;
      if (analysis.dropped > maxDroppedShare * analysis.examples) {
        // Vertex's wording for this failure is not documented; this one names the figures.
        job.dropError = `${analysis.dropped} of ${analysis.examples} training examples were dropped, more than ${maxDroppedShare * 100}%; the job failed before training started. See tuningDataStats.supervisedTuningDataStats.droppedExampleReasons.`;
      }
    } catch (error) {
      job.datasetError =
        error instanceof DatasetError ? error.message : `Unable to read ${uri}: ${String(error)}`;
    }
  }

  /**
   * The succeeded model a name means: `…/models/ID@VERSION`, or the latest succeeded version of
   * `…/models/ID` (also for a version alias such as `@default`).
   */
  findTunedModel(name: string): TunedModelInfo | undefined {
    const match = /^(projects\/[^/]+\/locations\/[^/]+)\/models\/([^/@]+)(?:@([^/@]+))?$/.exec(name);
    if (!match) return undefined;
    const [, parent, modelId, version] = match;
    const exact = version !== undefined && /^\d+$/.test(version) ? Number(version) : undefined;
    let found: StoredJob | undefined;
    for (const job of this.jobs.values()) {
      if (job.parent !== parent || job.output.modelId !== modelId) continue;
      if (exact !== undefined && job.output.version !== exact) continue;
      if (this.timeline(job).at(-1)?.state !== 'JOB_STATE_SUCCEEDED') continue;
      if (!found || job.output.version > found.output.version) found = job;
    }
    if (!found) return undefined;
    const info: TunedModelInfo = {
      name: `${parent}/models/${modelId}@${found.output.version}`,
      baseModel: found.baseModelId,
      checkpointIds: checkpointEpochs(found.epochCount, found.lastCheckpointOnly).map((_, i) =>
        String(i + 1),
      ),
    };
    if (typeof found.request.tunedModelDisplayName === 'string')
      info.displayName = found.request.tunedModelDisplayName;
    return info;
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
      if (job.datasetError || job.dropError) {
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
    const [, project, locationId] = /^projects\/([^/]+)\/locations\/([^/]+)$/.exec(job.parent) ?? [];
    const resource: TuningJob = {
      name: job.name,
      ...job.request,
      state: current.state,
      createTime: iso(job.createdAt),
      updateTime: iso(current.at),
    };
    const location = `projects/${project}/locations/${locationId}`;
    // A job that dropped too many examples never ran, yet shows what was dropped.
    if (job.stats && (started || (job.dropError && current.state === 'JOB_STATE_FAILED'))) {
      resource.tuningDataStats = { supervisedTuningDataStats: job.stats };
    }
    if (started) {
      resource.startTime = iso(started.at);
      resource.experiment = `${location}/metadataStores/default/contexts/tuning-experiment-${job.id}`;
      if (job.stats) {
        // A stalled job takes no checkpoints: "never progresses" includes its step counter.
        const until = job.fate.stallIn ? started.at : Math.min(this.now(), ended ?? Number.POSITIVE_INFINITY);
        const checkpoints = this.checkpoints(job, started.at, until, location);
        const lastCheckpoint = checkpoints.at(-1);
        if (lastCheckpoint && lastCheckpoint.at > current.at) resource.updateTime = iso(lastCheckpoint.at);
        const tunedModel: Record<string, unknown> = {};
        if (current.state === 'JOB_STATE_SUCCEEDED') {
          tunedModel.model = `${location}/models/${job.output.modelId}@${job.output.version}`;
          // The default checkpoint is the last one; its endpoint is the tuned model's.
          tunedModel.endpoint =
            lastCheckpoint?.endpoint ?? `${location}/endpoints/${job.id + 2_000_000_000n}`;
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
      if (job.datasetError) {
        resource.error = { code: 3, message: `Failed to read the training dataset: ${job.datasetError}` };
      } else if (job.dropError) {
        resource.error = { code: 3, message: job.dropError };
      } else {
        resource.error = {
          code: 13,
          message: 'Internal error encountered. The tuning job failed (emulated fault).',
        };
      }
    }
    return resource;
  }

  /** The checkpoints taken by `until`, each at the end of its epoch, each with its own endpoint. */
  private checkpoints(job: StoredJob, runAt: number, until: number, location: string) {
    const endAt = job.createdAt + this.durationMs;
    const totalSteps = Number(job.stats?.tuningStepCount ?? 0);
    const stepsPerEpoch = Math.max(1, Math.round(totalSteps / job.epochCount));
    const out: { checkpointId: string; epoch: string; step: string; endpoint: string; at: number }[] = [];
    const epochs = checkpointEpochs(job.epochCount, job.lastCheckpointOnly);
    for (const [index, epoch] of epochs.entries()) {
      const at = runAt + (endAt - runAt) * epochEnd(epoch, job.epochCount);
      if (at > until) break;
      out.push({
        checkpointId: String(index + 1),
        epoch: String(epoch),
        step: String(stepsPerEpoch * epoch),
        endpoint: `${location}/endpoints/${(job.id + 2_000_000_000n) * 100n + BigInt(index + 1)}`,
        at,
      });
    }
    return out;
  }
}
