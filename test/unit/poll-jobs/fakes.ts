/** In-memory stand-ins for the poller's dependencies, for unit tests only. */

import type { JobState } from '../../../shared/jobs/index.ts';
import { isTerminal, JobRecord, type JobStore, jobIdLabel } from '../../../shared/jobs/index.ts';
import { hasCreateInFlight } from '../../../shared/jobs/start-job.ts';
import {
  type ListJobsOptions,
  ProviderError,
  type ProviderJob,
  type TuningProvider,
} from '../../../shared/providers/index.ts';

export function memoryStore(initial: JobRecord[] = []): JobStore & { records: Map<string, JobRecord> } {
  const records = new Map(initial.map((job) => [job.id, JobRecord.parse(job)]));
  return {
    records,
    async create(job) {
      const existing = records.get(job.id);
      if (existing) return { created: false, job: existing };
      records.set(job.id, JobRecord.parse(job));
      return { created: true, job };
    },
    async get(id) {
      return records.get(id);
    },
    async update(id, mutate) {
      const current = records.get(id);
      if (!current) return undefined;
      const next = mutate(structuredClone(current));
      if (!next) return current;
      const parsed = JobRecord.parse(next);
      records.set(id, parsed);
      return parsed;
    },
    async list() {
      return { jobs: [...records.values()] };
    },
    async findByIdPrefix(prefix, limit) {
      return [...records.keys()]
        .filter((id) => id.startsWith(prefix))
        .sort()
        .slice(0, limit)
        .map((id) => records.get(id)!);
    },
    async listActive() {
      return [...records.values()].filter((job) => !isTerminal(job.state));
    },
    async listWithPendingEvents() {
      return [...records.values()].filter((job) => job.outbox.some((entry) => !entry.publishTime));
    },
    async countByStates(states, options = {}) {
      return [...records.values()].filter(
        (job) => states.includes(job.state) || (options.orCreateInFlight === true && hasCreateInFlight(job)),
      ).length;
    },
  };
}

/** A provider job labelled for `recordId`, in tunedrop's `state`. */
export function providerJob(
  recordId: string,
  state: JobState,
  overrides: Partial<ProviderJob> = {},
): ProviderJob {
  return {
    name: `projects/p/locations/l/tuningJobs/${recordId.slice(0, 8)}`,
    providerState: `JOB_STATE_${state}`,
    state,
    labels: { [jobIdLabel]: recordId, 'tunedrop-managed': 'true' },
    createTime: '2025-06-01T12:00:00.000Z',
    ...overrides,
  };
}

const notFound = (name: string) => new ProviderError(`${name} not found`, 404, 'NOT_FOUND', false);

/**
 * A provider serving `jobs` (newest first, as Vertex lists them) from list pages of `pageSize`,
 * recording every call. A job not in `jobs` does not exist (or was deleted); `createJob` adds one
 * in front.
 */
export function fakeProvider(jobs: ProviderJob[], pageSize = 2) {
  const calls: { method: string; options?: ListJobsOptions; name?: string }[] = [];
  let failList: Error | undefined;
  let created = 0;
  const provider: TuningProvider = {
    name: 'fake',
    async createJob(_spec, recordId) {
      calls.push({ method: 'createJob' });
      const job = providerJob(recordId, 'PENDING', {
        name: `projects/p/locations/l/tuningJobs/created-${++created}`,
      });
      jobs.unshift(job);
      return job;
    },
    async getJob(name) {
      calls.push({ method: 'getJob', name });
      const job = jobs.find((candidate) => candidate.name === name);
      if (!job) throw notFound(name);
      return job;
    },
    async listJobs(options = {}) {
      calls.push({ method: 'listJobs', options });
      if (failList) throw failList;
      const start = options.pageToken ? Number(options.pageToken) : 0;
      const size = Math.min(options.pageSize ?? pageSize, pageSize);
      const page = jobs.slice(start, start + size);
      return start + size < jobs.length
        ? { jobs: page, nextPageToken: String(start + size) }
        : { jobs: page };
    },
    async findJobByRecordId(recordId) {
      calls.push({ method: 'findJobByRecordId' });
      return jobs.find((job) => job.labels[jobIdLabel] === recordId);
    },
    async cancelJob() {
      calls.push({ method: 'cancelJob' });
    },
  };
  return {
    provider,
    calls,
    failListWith(error: Error) {
      failList = error;
    },
  };
}
