import { describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../../../../shared/logging/index.ts';
import {
  createListModeMemory,
  createVertexProvider,
  ListUnavailableError,
  LookupInconclusiveError,
  listManagedJobs,
  maxLookupPages,
  toTuningJobBody,
} from '../../../../shared/providers/index.ts';

type Reply = { status: number; body?: unknown };

const refused = (what = 'filter'): Reply => ({
  status: 400,
  body: { error: { code: 400, message: `Unsupported ${what}.`, status: 'INVALID_ARGUMENT' } },
});

/** A fetch answering from a script; records the filter and page token of each request. */
function setup(replies: Reply[], listModes = createListModeMemory()) {
  const requests: { filter: string | null; pageToken: string | null; path: string }[] = [];
  const fetch = (async (input: string | URL | Request) => {
    const url = new URL(String(input));
    requests.push({
      filter: url.searchParams.get('filter'),
      pageToken: url.searchParams.get('pageToken'),
      path: url.pathname,
    });
    const reply = replies.shift();
    if (!reply) throw new Error('no scripted reply left');
    return new Response(JSON.stringify(reply.body ?? {}), { status: reply.status });
  }) as typeof globalThis.fetch;
  const logger = createMemoryLogger('test');
  const vertex = createVertexProvider({
    project: 'proj',
    region: 'us-central1',
    endpoint: 'http://127.0.0.1:9',
    fetch,
    retry: { baseDelayMs: 0 },
    listModes,
    logger,
  });
  return { vertex, requests, logger, listModes };
}

const job = (
  n: number,
  createTime: string,
  labels: Record<string, string> = {},
  state = 'JOB_STATE_RUNNING',
) => ({
  name: `projects/proj/locations/us-central1/tuningJobs/${n}`,
  state,
  createTime,
  labels,
});
const managed = { 'tunedrop-managed': 'true' };

describe('Vertex list filter fallback', () => {
  it('falls back to a state-only filter when the label filter is refused, remembers it and logs it once', async () => {
    const { vertex, requests, logger } = setup([
      refused(),
      {
        status: 200,
        body: { tuningJobs: [job(1, '2026-12-01T00:00:00Z', managed), job(2, '2026-12-01T00:00:00Z')] },
      },
      { status: 200, body: {} },
    ]);
    const page = await listManagedJobs(vertex);
    expect(requests[0]?.filter).toBe('labels.tunedrop-managed="true"');
    expect(requests[1]?.filter).toBe(
      '(state="JOB_STATE_UNSPECIFIED" OR state="JOB_STATE_QUEUED" OR state="JOB_STATE_PENDING" OR state="JOB_STATE_RUNNING" OR state="JOB_STATE_CANCELLING" OR state="JOB_STATE_PAUSED" OR state="JOB_STATE_UPDATING")',
    );
    // The labels are still checked by the client: the unmanaged job is not returned.
    expect(page.jobs.map((found) => found.name)).toEqual([
      'projects/proj/locations/us-central1/tuningJobs/1',
    ]);
    expect(page).toMatchObject({ scope: 'state', coveredStates: ['PENDING', 'RUNNING', 'CANCELLING'] });
    expect(vertex.listScope()).toBe('state');

    // The next listing goes straight to the state filter: one request, no second log line.
    await listManagedJobs(vertex);
    expect(requests).toHaveLength(3);
    expect(requests[2]?.filter).toBe(requests[1]?.filter);
    expect(logger.entries.filter((entry) => String(entry.message).includes('falling back'))).toHaveLength(1);
    expect(vertex.requestCount()).toBe(3);
  });

  it('falls back to an unfiltered list when the state filter is refused too', async () => {
    const { vertex, requests, logger } = setup([
      refused(),
      refused(),
      { status: 200, body: { tuningJobs: [job(1, '2026-12-01T00:00:00Z', managed, 'JOB_STATE_SUCCEEDED')] } },
    ]);
    const page = await listManagedJobs(vertex);
    expect(requests.map((request) => request.filter?.slice(0, 6) ?? null)).toEqual([
      'labels',
      '(state',
      null,
    ]);
    expect(page).toMatchObject({ scope: 'unfiltered' });
    expect(page.coveredStates).toBeUndefined();
    expect(page.jobs).toHaveLength(1);
    expect(logger.entries.filter((entry) => String(entry.message).includes('falling back'))).toHaveLength(2);
  });

  it('reports the list unusable when even the unfiltered list is refused, without asking again', async () => {
    const { vertex, requests } = setup([refused(), refused(), refused('request')]);
    await expect(listManagedJobs(vertex)).rejects.toBeInstanceOf(ListUnavailableError);
    expect(vertex.listScope()).toBe('per-job');
    await expect(listManagedJobs(vertex)).rejects.toBeInstanceOf(ListUnavailableError);
    expect(requests).toHaveLength(3);
  });

  it('does not fall back on a refused page token or a transient error', async () => {
    const { vertex } = setup([refused('page token'), { status: 503, body: {} }]);
    await expect(listManagedJobs(vertex, { pageToken: 'stale' })).rejects.toMatchObject({ httpStatus: 400 });
    const noRetry = setup([{ status: 503 }, { status: 503 }, { status: 503 }]);
    await expect(listManagedJobs(noRetry.vertex)).rejects.toMatchObject({ transient: true });
    expect(vertex.listScope()).toBe('labels');
    expect(noRetry.vertex.listScope()).toBe('labels');
  });

  it('keeps the first page’s scope for later pages, so the page token matches its filter', async () => {
    const memory = createListModeMemory('state');
    const { vertex, requests } = setup([{ status: 200, body: {} }], memory);
    await listManagedJobs(vertex, { pageToken: 't2', scope: 'state' });
    expect(requests[0]?.filter).toMatch(/^\(state=/);
    expect(requests[0]?.pageToken).toBe('t2');
  });
});

describe('adoption lookup without a label filter', () => {
  const recordId = 'a'.repeat(32);
  const mine = { 'tunedrop-job-id': recordId };

  it('scans unfiltered pages newest first and stops at the first page older than the intent', async () => {
    const { vertex, requests } = setup([
      refused(),
      {
        status: 200,
        body: {
          tuningJobs: [job(3, '2026-12-03T08:00:00Z'), job(2, '2026-12-03T07:59:00Z', mine)],
          nextPageToken: 'p2',
        },
      },
      { status: 200, body: { tuningJobs: [job(1, '2026-12-02T00:00:00Z')], nextPageToken: 'p3' } },
    ]);
    const found = await vertex.findJobByRecordId(recordId, { createdAfter: '2026-12-03T07:58:00Z' });
    expect(found?.name).toMatch(/tuningJobs\/2$/);
    // Label filter refused; then unfiltered pages until one is older than the intent (less skew).
    expect(requests.map((request) => request.filter)).toEqual([
      `labels.tunedrop-job-id="${recordId}"`,
      null,
      null,
    ]);
    expect(requests[2]?.pageToken).toBe('p2');
  });

  it('concludes "no job" only when the listing has gone back past the intent in creation order', async () => {
    const { vertex } = setup([
      refused(),
      { status: 200, body: { tuningJobs: [job(3, '2026-12-03T08:00:00Z')], nextPageToken: 'p2' } },
      { status: 200, body: { tuningJobs: [job(1, '2026-12-01T00:00:00Z')], nextPageToken: 'p3' } },
    ]);
    expect(
      await vertex.findJobByRecordId(recordId, { createdAfter: '2026-12-03T07:58:00Z' }),
    ).toBeUndefined();
  });

  it('is inconclusive, not "absent", when the pages are not in creation order within its page budget', async () => {
    // The first page lists an old job before a new one: the listing is not newest first, so the
    // old pages after it prove nothing, and the scan reads its whole budget.
    const pages: Reply[] = Array.from({ length: maxLookupPages }, (_, n) => ({
      status: 200,
      body: {
        tuningJobs:
          n === 0
            ? [job(100, '2020-01-01T00:00:00Z'), job(101, '2026-12-03T09:00:00Z')]
            : [job(n, '2020-01-01T00:00:00Z')],
        nextPageToken: `p${n + 1}`,
      },
    }));
    const { vertex, requests } = setup([refused(), ...pages]);
    await expect(
      vertex.findJobByRecordId(recordId, { createdAfter: '2026-12-03T07:58:00Z' }),
    ).rejects.toBeInstanceOf(LookupInconclusiveError);
    expect(requests).toHaveLength(1 + maxLookupPages);
  });

  it('cannot answer at all when the list is unusable', async () => {
    const { vertex } = setup([], createListModeMemory('per-job'));
    await expect(vertex.findJobByRecordId(recordId)).rejects.toBeInstanceOf(ListUnavailableError);
  });
});

describe('continuous tuning and checkpoints in the create body', () => {
  it('sends preTunedModel and no baseModel, and exportLastCheckpointOnly in the supervised spec', () => {
    const body = toTuningJobBody(
      {
        baseModel: 'gemini-3.5-flash',
        preTunedModel: { tunedModelName: 'projects/p/locations/us-central1/models/42@3', checkpointId: '2' },
        trainingDatasetUri: 'gs://b/validated/x/train.jsonl',
        exportLastCheckpointOnly: true,
        labels: {},
      },
      'r1',
    );
    expect(body.baseModel).toBeUndefined();
    expect(body.preTunedModel).toEqual({
      tunedModelName: 'projects/p/locations/us-central1/models/42@3',
      checkpointId: '2',
    });
    expect(body.supervisedTuningSpec).toMatchObject({ exportLastCheckpointOnly: true });
  });
});
