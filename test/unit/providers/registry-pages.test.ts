import { describe, expect, it } from 'vitest';
import type { TuningSpec } from '../../../shared/jobs/model.ts';
import {
  createProviderRegistry,
  decodePageToken,
  encodePageToken,
  type ListJobsOptions,
  type ProviderJob,
  type TuningProvider,
} from '../../../shared/providers/index.ts';

/** A provider listing `count` jobs newest first, paged by offset at the page size it is asked for. */
function listing(name: string, count: number): TuningProvider & { asked: ListJobsOptions[] } {
  const asked: ListJobsOptions[] = [];
  const jobs: ProviderJob[] = Array.from({ length: count }, (_, index) => ({
    name:
      name === 'yandex' ? `folders/f/tuningTasks/t${index}` : `projects/p/locations/l/tuningJobs/${index}`,
    providerState: 'X',
    state: 'RUNNING',
    labels: {},
  }));
  return {
    name,
    asked,
    async createJob() {
      throw new Error('unused');
    },
    async getJob() {
      throw new Error('unused');
    },
    async listJobs(options = {}) {
      asked.push(options);
      const start = Number(options.pageToken || 0);
      const size = options.pageSize ?? 100;
      const page = jobs.slice(start, start + size);
      return start + size < jobs.length
        ? { jobs: page, nextPageToken: String(start + size) }
        : { jobs: page };
    },
    async findJobByRecordId() {
      return undefined;
    },
    async cancelJob() {},
  };
}

async function listAll(provider: TuningProvider, pageSize: number) {
  const pages: string[][] = [];
  let pageToken: string | undefined;
  do {
    const page = await provider.listJobs({ pageSize, ...(pageToken ? { pageToken } : {}) });
    pages.push(page.jobs.map((job) => job.name));
    pageToken = page.nextPageToken;
  } while (pageToken);
  return pages;
}

describe('registry list pages across providers', () => {
  it('lists every job of every provider exactly once, no page above its size', async () => {
    const vertex = listing('vertex', 7);
    const yandex = listing('yandex', 2);
    const pages = await listAll(createProviderRegistry([vertex, yandex]), 4);
    const all = pages.flat();
    expect(new Set(all).size).toBe(9);
    expect(all).toHaveLength(9);
    for (const page of pages) expect(page.length).toBeLessThanOrEqual(4);
    // Both providers advance on the first page (a caller stopping at old jobs sees both).
    expect(pages[0]?.some((name) => name.startsWith('folders/'))).toBe(true);
    expect(pages[0]?.some((name) => name.startsWith('projects/'))).toBe(true);
    // Once Yandex is exhausted, Vertex AI gets the whole page size.
    expect(vertex.asked.map((options) => options.pageSize)).toEqual([2, 4, 4]);
    expect(yandex.asked).toHaveLength(1);
  });

  it('passes the filters through and keeps the single-provider listing as it is', async () => {
    const vertex = listing('vertex', 3);
    const registry = createProviderRegistry([vertex]);
    const page = await registry.listJobs({ pageSize: 2, labels: { a: 'b' } });
    expect(page.nextPageToken).toBe('2');
    expect(vertex.asked[0]).toEqual({ pageSize: 2, labels: { a: 'b' } });
  });

  it('refuses a token it did not issue with a 400 naming the problem, never a crash', async () => {
    const registry = createProviderRegistry([listing('vertex', 3), listing('yandex', 3)]);
    const bad = [
      'not base64!',
      Buffer.from('not json').toString('base64url'),
      Buffer.from(JSON.stringify(['1', '2'])).toString('base64url'),
      Buffer.from(JSON.stringify({ v: 2, cursors: [] })).toString('base64url'),
      Buffer.from(JSON.stringify({ v: 1, cursors: [{ provider: 'vertex', token: 5 }] })).toString(
        'base64url',
      ),
    ];
    for (const pageToken of bad) {
      await expect(registry.listJobs({ pageToken })).rejects.toMatchObject({
        httpStatus: 400,
        status: 'INVALID_ARGUMENT',
        transient: false,
        message: expect.stringMatching(/^invalid page token: /),
      });
    }
  });

  it('refuses a token of another provider set, saying which', async () => {
    const token = encodePageToken([
      { provider: 'yandex', token: '1' },
      { provider: 'vertex', token: null },
    ]);
    expect(() => decodePageToken(token ?? '', ['vertex', 'yandex'])).toThrow(
      /lists providers yandex, vertex; this deployment has vertex, yandex/,
    );
    const registry = createProviderRegistry([listing('vertex', 1), listing('yandex', 1)]);
    await expect(registry.listJobs({ pageToken: token ?? '' })).rejects.toMatchObject({ httpStatus: 400 });
  });

  it('issues no token once every provider is exhausted', () => {
    expect(
      encodePageToken([
        { provider: 'vertex', token: null },
        { provider: 'yandex', token: null },
      ]),
    ).toBeUndefined();
  });
});

describe('registry datasets', () => {
  const spec: TuningSpec = { baseModel: 'm', trainingDatasetUri: 'gs://b/o', labels: {}, provider: 'yandex' };

  it('prepares at the provider the spec names; Vertex AI prepares nothing', async () => {
    const prepared: string[] = [];
    const yandex: TuningProvider = {
      ...listing('yandex', 0),
      async prepareDatasets(_spec, recordId) {
        prepared.push(recordId);
        return { train: 'fds1' };
      },
      async heldDatasets() {
        return [{ provider: 'yandex', id: 'fds1', recordId: 'r' }];
      },
      async deleteDataset(dataset) {
        prepared.push(`deleted ${dataset.id}`);
      },
    };
    const registry = createProviderRegistry([listing('vertex', 0), yandex]);
    expect(await registry.prepareDatasets?.(spec, 'r')).toEqual({ train: 'fds1' });
    expect(await registry.prepareDatasets?.({ ...spec, provider: 'vertex' }, 'r')).toBeUndefined();
    const held = (await registry.heldDatasets?.()) ?? [];
    expect(held).toEqual([{ provider: 'yandex', id: 'fds1', recordId: 'r' }]);
    await registry.deleteDataset?.(held[0]!);
    expect(prepared).toEqual(['r', 'deleted fds1']);
  });

  it('has no dataset steps where no provider keeps datasets (a Vertex-only deployment)', () => {
    const registry = createProviderRegistry([listing('vertex', 0)]);
    expect([registry.prepareDatasets, registry.heldDatasets, registry.deleteDataset]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });
});
