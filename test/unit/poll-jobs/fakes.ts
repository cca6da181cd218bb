/** In-memory stand-ins for the poller's dependencies, for unit tests only. */

import type { JobState } from '../../../shared/jobs/index.ts';
import { isTerminal, JobRecord, type JobStore, jobIdLabel } from '../../../shared/jobs/index.ts';
import type { ListJobsOptions, ProviderJob, TuningProvider } from '../../../shared/providers/index.ts';

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
    async listActive() {
      return [...records.values()].filter((job) => !isTerminal(job.state));
    },
    async listWithPendingEvents() {
      return [...records.values()].filter((job) => job.outbox.some((entry) => !entry.publishTime));
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

/** A provider serving `jobs` from list pages of `pageSize`, recording every call. */
export function fakeProvider(jobs: ProviderJob[], pageSize = 2) {
  const calls: { method: string; options?: ListJobsOptions }[] = [];
  let failList: Error | undefined;
  const provider: TuningProvider = {
    name: 'fake',
    async createJob() {
      calls.push({ method: 'createJob' });
      throw new Error('not used');
    },
    async getJob() {
      calls.push({ method: 'getJob' });
      throw new Error('the poller must not get jobs one by one');
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
    async findJobByRecordId() {
      calls.push({ method: 'findJobByRecordId' });
      return undefined;
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
