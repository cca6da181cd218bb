import { describe, expect, it } from 'vitest';
import type { TuningSpec } from '../../../shared/jobs/model.ts';
import {
  createProviderRegistry,
  type ProviderJob,
  type TuningProvider,
} from '../../../shared/providers/index.ts';

function fake(name: string, jobName: string, pages = 1): TuningProvider & { calls: string[] } {
  const calls: string[] = [];
  const job: ProviderJob = { name: jobName, providerState: 'X', state: 'RUNNING', labels: {} };
  return {
    name,
    calls,
    async createJob() {
      calls.push('create');
      return job;
    },
    async getJob(n) {
      calls.push(`get ${n}`);
      return job;
    },
    async listJobs(options = {}) {
      calls.push(`list ${options.pageToken ?? ''}`);
      const page = Number(options.pageToken ?? 0);
      return page + 1 < pages ? { jobs: [job], nextPageToken: String(page + 1) } : { jobs: [job] };
    },
    async findJobByRecordId(id) {
      calls.push(`find ${id}`);
      return name === 'yandex' ? job : undefined;
    },
    async cancelJob(n) {
      calls.push(`cancel ${n}`);
    },
  };
}

const spec: TuningSpec = { baseModel: 'm', trainingDatasetUri: 'gs://b/o', labels: {} };
const vertexName = 'projects/p/locations/l/tuningJobs/1';
const yandexName = 'folders/f/tuningTasks/ftn1';

describe('provider registry', () => {
  it('creates at the provider a spec names, Vertex AI when it names none', async () => {
    const vertex = fake('vertex', vertexName);
    const yandex = fake('yandex', yandexName);
    const registry = createProviderRegistry([vertex, yandex]);
    await registry.createJob(spec, 'r');
    await registry.createJob({ ...spec, provider: 'yandex' }, 'r');
    expect([vertex.calls, yandex.calls]).toEqual([['create'], ['create']]);
    expect(registry.name).toBe('vertex');
  });

  it('routes get and cancel by the job name and refuses an unconfigured provider permanently', async () => {
    const vertex = fake('vertex', vertexName);
    const registry = createProviderRegistry([vertex]);
    await registry.getJob(vertexName);
    await registry.cancelJob(vertexName);
    expect(vertex.calls).toEqual([`get ${vertexName}`, `cancel ${vertexName}`]);
    await expect(registry.getJob(yandexName)).rejects.toMatchObject({
      transient: false,
      status: 'FAILED_PRECONDITION',
    });
    await expect(registry.createJob({ ...spec, provider: 'yandex' }, 'r')).rejects.toThrow(/not configured/);
  });

  it('looks a record up at every provider, and lists a page of every provider per page', async () => {
    const vertex = fake('vertex', vertexName, 2);
    const yandex = fake('yandex', yandexName);
    const registry = createProviderRegistry([vertex, yandex]);
    expect((await registry.findJobByRecordId('r'))?.name).toBe(yandexName);
    const names: string[] = [];
    let pageToken: string | undefined;
    do {
      const page = await registry.listJobs(pageToken ? { pageToken } : {});
      names.push(...page.jobs.map((job) => job.name));
      pageToken = page.nextPageToken;
    } while (pageToken);
    // One page of each provider per page, so a caller stopping at old jobs sees every provider.
    expect(names).toEqual([vertexName, yandexName, vertexName]);
  });
});
