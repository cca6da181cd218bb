import { describe, expect, it } from 'vitest';
import type { TuningSpec } from '../../../../shared/jobs/model.ts';
import { listManagedJobs } from '../../../../shared/providers/index.ts';
import { ProviderError } from '../../../../shared/providers/types.ts';
import { createListModeMemory, createVertexProvider } from '../../../../shared/providers/vertex/index.ts';

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: unknown;
}

type Reply = { status: number; body?: unknown } | Error;

/** A fetch that records requests and answers from a script, one reply per call. */
function scriptedFetch(replies: Reply[]) {
  const calls: Call[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    calls.push({
      url: String(input),
      method: init?.method ?? 'GET',
      headers: Object.fromEntries(new Headers(init?.headers).entries()),
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
    });
    const reply = replies.shift();
    if (!reply) throw new Error('no scripted reply left');
    if (reply instanceof Error) throw reply;
    const text =
      reply.body === undefined
        ? ''
        : typeof reply.body === 'string'
          ? reply.body
          : JSON.stringify(reply.body);
    return new Response(text, { status: reply.status, headers: { 'content-type': 'application/json' } });
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

const endpoint = 'http://127.0.0.1:9999';
const provider = (replies: Reply[], extra: Partial<Parameters<typeof createVertexProvider>[0]> = {}) => {
  const scripted = scriptedFetch(replies);
  const vertex = createVertexProvider({
    project: 'proj',
    region: 'us-central1',
    endpoint,
    fetch: scripted.fetch,
    retry: { baseDelayMs: 0 },
    // Each test its own list fallback memory: the process-wide one would carry over between tests.
    listModes: createListModeMemory(),
    ...extra,
  });
  return { vertex, calls: scripted.calls };
};

const jobName = 'projects/proj/locations/us-central1/tuningJobs/123';
const spec: TuningSpec = {
  baseModel: 'gemini-2.5-flash',
  trainingDatasetUri: 'gs://bucket/incoming/train.jsonl',
  validationDatasetUri: 'gs://bucket/incoming/valid.jsonl',
  epochCount: 4,
  learningRateMultiplier: 0.5,
  adapterSize: 'THIRTY_TWO',
  tunedModelDisplayName: 'support-bot',
  description: 'from tunedrop',
  labels: { team: 'support', 'tunedrop-managed': 'false' },
  kmsKeyName: 'projects/proj/locations/us-central1/keyRings/r/cryptoKeys/k',
  serviceAccount: 'tuner@proj.iam.gserviceaccount.com',
};

const envelope = (code: number, status: string, message: string, details: unknown[] = []) => ({
  error: { code, message, status, details },
});

describe('Vertex AI client: requests', () => {
  it('creates a job with the v1 body: camelCase, int64 as strings, enum adapter size, tunedrop labels on top', async () => {
    const { vertex, calls } = provider([
      { status: 200, body: { name: jobName, state: 'JOB_STATE_PENDING' } },
    ]);
    const job = await vertex.createJob(spec, 'rec123');
    expect(job).toMatchObject({ name: jobName, state: 'PENDING', providerState: 'JOB_STATE_PENDING' });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.method).toBe('POST');
    expect(calls[0]?.url).toBe(`${endpoint}/v1/projects/proj/locations/us-central1/tuningJobs`);
    expect(calls[0]?.body).toEqual({
      baseModel: 'gemini-2.5-flash',
      supervisedTuningSpec: {
        trainingDatasetUri: 'gs://bucket/incoming/train.jsonl',
        validationDatasetUri: 'gs://bucket/incoming/valid.jsonl',
        hyperParameters: {
          epochCount: '4',
          learningRateMultiplier: 0.5,
          adapterSize: 'ADAPTER_SIZE_THIRTY_TWO',
        },
      },
      tunedModelDisplayName: 'support-bot',
      description: 'from tunedrop',
      labels: { team: 'support', 'tunedrop-job-id': 'rec123', 'tunedrop-managed': 'true' },
      encryptionSpec: { kmsKeyName: 'projects/proj/locations/us-central1/keyRings/r/cryptoKeys/k' },
      serviceAccount: 'tuner@proj.iam.gserviceaccount.com',
    });
  });

  it('leaves out hyper-parameters the spec does not set', async () => {
    const { vertex, calls } = provider([
      { status: 200, body: { name: jobName, state: 'JOB_STATE_PENDING' } },
    ]);
    await vertex.createJob(
      { baseModel: 'gemini-2.5-flash', trainingDatasetUri: 'gs://b/t.jsonl', labels: {} },
      'r',
    );
    expect(calls[0]?.body).toEqual({
      baseModel: 'gemini-2.5-flash',
      supervisedTuningSpec: { trainingDatasetUri: 'gs://b/t.jsonl' },
      labels: { 'tunedrop-job-id': 'r', 'tunedrop-managed': 'true' },
    });
  });

  it('sends no credentials to an http:// emulator endpoint', async () => {
    const { vertex, calls } = provider([{ status: 200, body: { name: jobName } }]);
    await vertex.getJob(jobName);
    expect(calls[0]?.headers.authorization).toBeUndefined();
  });

  it('sends the headers of the auth client it is given', async () => {
    const auth = { getRequestHeaders: async () => new Headers({ authorization: 'Bearer test-token' }) };
    const { vertex, calls } = provider([{ status: 200, body: { name: jobName } }], { auth });
    await vertex.getJob(jobName);
    expect(calls[0]?.headers.authorization).toBe('Bearer test-token');
  });

  it('gets a job by its full resource name and cancels it with POST {name}:cancel', async () => {
    const { vertex, calls } = provider([
      { status: 200, body: { name: jobName } },
      { status: 200, body: {} },
    ]);
    await vertex.getJob(jobName);
    await vertex.cancelJob(jobName);
    expect(calls.map((call) => `${call.method} ${call.url}`)).toEqual([
      `GET ${endpoint}/v1/${jobName}`,
      `POST ${endpoint}/v1/${jobName}:cancel`,
    ]);
  });

  it('sends only label equality to Vertex and applies states and the creation time to each page', async () => {
    const job = (id: string, state: string, createTime: string, labels = { 'tunedrop-managed': 'true' }) => ({
      name: `${jobName}${id}`,
      state,
      createTime,
      labels,
    });
    const { vertex, calls } = provider([
      {
        status: 200,
        body: {
          tuningJobs: [
            job('1', 'JOB_STATE_RUNNING', '2026-01-02T00:00:00Z'),
            job('2', 'JOB_STATE_PAUSED', '2026-01-01T00:00:00Z'),
            job('3', 'JOB_STATE_RUNNING', '2025-12-31T23:59:59Z'),
            job('4', 'JOB_STATE_SUCCEEDED', '2026-01-03T00:00:00Z'),
            job('5', 'JOB_STATE_RUNNING', '2026-01-03T00:00:00Z', { 'tunedrop-managed': 'false' }),
          ],
          nextPageToken: 'more',
        },
      },
    ]);
    const page = await vertex.listJobs({
      labels: { 'tunedrop-managed': 'true' },
      states: ['RUNNING'],
      createdAfter: '2026-01-01T00:00:00Z',
      pageSize: 50,
      pageToken: 'tok',
    });
    const url = new URL(calls[0]?.url ?? '');
    expect(url.pathname).toBe('/v1/projects/proj/locations/us-central1/tuningJobs');
    expect(url.searchParams.get('filter')).toBe('labels.tunedrop-managed="true"');
    expect(url.searchParams.get('pageSize')).toBe('50');
    expect(url.searchParams.get('pageToken')).toBe('tok');
    expect(page.jobs.map((found) => found.name)).toEqual([`${jobName}1`, `${jobName}2`]);
    expect(page.nextPageToken).toBe('more');
  });

  it('keeps following the page token when a page has nothing left after client-side filtering', async () => {
    const { vertex } = provider([
      {
        status: 200,
        body: {
          tuningJobs: [{ name: jobName, state: 'JOB_STATE_SUCCEEDED', createTime: '2020-01-01T00:00:00Z' }],
          nextPageToken: 'p2',
        },
      },
    ]);
    expect(await vertex.listJobs({ createdAfter: '2026-01-01T00:00:00Z' })).toEqual({
      jobs: [],
      nextPageToken: 'p2',
      scope: 'labels',
    });
  });

  it('sends no filter at all when nothing is asked of the labels', async () => {
    const { vertex, calls } = provider([{ status: 200, body: {} }]);
    await vertex.listJobs({ states: ['RUNNING'], createdAfter: '2026-01-01T00:00:00Z' });
    expect(new URL(calls[0]?.url ?? '').searchParams.has('filter')).toBe(false);
  });

  it('escapes quotes in label values so a value cannot change the filter', async () => {
    const { vertex, calls } = provider([{ status: 200, body: {} }]);
    await vertex.listJobs({ labels: { k: 'a" OR labels.x:*' } });
    expect(new URL(calls[0]?.url ?? '').searchParams.get('filter')).toBe('labels.k="a\\" OR labels.x:*"');
  });

  it('answers a list for tunedrop-only states without calling Vertex', async () => {
    const { vertex, calls } = provider([]);
    expect(await vertex.listJobs({ states: ['DRAFT', 'QUEUED'] })).toEqual({ jobs: [], scope: 'labels' });
    expect(calls).toHaveLength(0);
  });

  it('lists managed jobs one page per call at the largest page size', async () => {
    const { vertex, calls } = provider([
      { status: 200, body: { tuningJobs: [{ name: jobName }], nextPageToken: 'next' } },
    ]);
    const page = await listManagedJobs(vertex, { createdAfter: '2026-02-01T00:00:00Z' });
    expect(page.nextPageToken).toBe('next');
    const url = new URL(calls[0]?.url ?? '');
    expect(url.searchParams.get('filter')).toBe('labels.tunedrop-managed="true"');
    expect(url.searchParams.get('pageSize')).toBe('100');
  });

  it('finds the job labelled with a record id, reading every page', async () => {
    const { vertex, calls } = provider([
      {
        status: 200,
        body: {
          tuningJobs: [
            {
              name: `${jobName}9`,
              createTime: '2026-03-01T00:00:02Z',
              labels: { 'tunedrop-job-id': 'rec1' },
            },
          ],
          nextPageToken: 'p2',
        },
      },
      {
        status: 200,
        body: {
          tuningJobs: [
            { name: jobName, createTime: '2026-03-01T00:00:01Z', labels: { 'tunedrop-job-id': 'rec1' } },
          ],
        },
      },
    ]);
    const found = await vertex.findJobByRecordId('rec1');
    expect(found?.name).toBe(jobName);
    expect(calls).toHaveLength(2);
    expect(new URL(calls[0]?.url ?? '').searchParams.get('filter')).toBe('labels.tunedrop-job-id="rec1"');
    expect(new URL(calls[1]?.url ?? '').searchParams.get('pageToken')).toBe('p2');
  });

  it('finds nothing when no job carries the record id', async () => {
    const { vertex } = provider([{ status: 200, body: {} }]);
    expect(await vertex.findJobByRecordId('none')).toBeUndefined();
  });
});

describe('Vertex AI client: responses', () => {
  it('maps a succeeded TuningJob: int64 strings to numbers, progress from stats and checkpoints, result, labels', async () => {
    const { vertex } = provider([
      {
        status: 200,
        body: {
          name: jobName,
          state: 'JOB_STATE_SUCCEEDED',
          labels: { 'tunedrop-job-id': 'rec1' },
          createTime: '2026-03-01T00:00:00Z',
          updateTime: '2026-03-01T01:00:00Z',
          experiment: 'projects/proj/locations/us-central1/metadataStores/default/contexts/exp',
          tunedModel: {
            model: 'projects/proj/locations/us-central1/models/77@1',
            endpoint: 'projects/proj/locations/us-central1/endpoints/88',
            checkpoints: [
              { checkpointId: '1', epoch: '1', step: '30' },
              { checkpointId: '2', epoch: '2', step: '60' },
            ],
          },
          tuningDataStats: {
            supervisedTuningDataStats: { tuningStepCount: '60', tuningDatasetExampleCount: '480' },
          },
        },
      },
    ]);
    expect(await vertex.getJob(jobName)).toEqual({
      name: jobName,
      providerState: 'JOB_STATE_SUCCEEDED',
      state: 'SUCCEEDED',
      labels: { 'tunedrop-job-id': 'rec1' },
      createTime: '2026-03-01T00:00:00Z',
      updateTime: '2026-03-01T01:00:00Z',
      progress: { currentStep: 60, totalSteps: 60 },
      result: {
        tunedModel: 'projects/proj/locations/us-central1/models/77@1',
        endpoint: 'projects/proj/locations/us-central1/endpoints/88',
        experiment: 'projects/proj/locations/us-central1/metadataStores/default/contexts/exp',
        checkpoints: [
          { checkpointId: '1', epoch: 1, step: 30 },
          { checkpointId: '2', epoch: 2, step: 60 },
        ],
      },
      tuningDataStats: { tuningStepCount: 60, tuningDatasetExampleCount: 480 },
    });
  });

  it('maps a failed job error with its details', async () => {
    const details = [{ '@type': 'type.googleapis.com/google.rpc.DebugInfo', detail: 'x' }];
    const { vertex } = provider([
      {
        status: 200,
        body: { name: jobName, state: 'JOB_STATE_FAILED', error: { code: 3, message: 'bad data', details } },
      },
    ]);
    const job = await vertex.getJob(jobName);
    expect(job.state).toBe('FAILED');
    expect(job.error).toEqual({ code: 3, message: 'bad data', details });
  });
});

describe('Vertex AI client: errors', () => {
  it('parses a 400 envelope into a permanent ProviderError that keeps the field violations', async () => {
    const badRequest = {
      '@type': 'type.googleapis.com/google.rpc.BadRequest',
      fieldViolations: [{ field: 'tuned_model_display_name', description: 'too long' }],
    };
    const { vertex } = provider([
      { status: 400, body: envelope(400, 'INVALID_ARGUMENT', 'invalid display name', [badRequest]) },
    ]);
    const error = await vertex.createJob(spec, 'r').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({
      httpStatus: 400,
      status: 'INVALID_ARGUMENT',
      transient: false,
      details: [badRequest],
    });
    expect((error as ProviderError).message).toContain('invalid display name');
  });

  it.each([
    [429, 'RESOURCE_EXHAUSTED', true],
    [500, 'INTERNAL', true],
    [503, 'UNAVAILABLE', true],
    [504, 'DEADLINE_EXCEEDED', true],
    [400, 'FAILED_PRECONDITION', false],
    [403, 'PERMISSION_DENIED', false],
    [404, 'NOT_FOUND', false],
  ] as const)('classifies HTTP %i %s as transient=%s', async (httpStatus, status, transient) => {
    const { vertex } = provider([{ status: httpStatus, body: envelope(httpStatus, status, 'nope') }]);
    await expect(vertex.createJob(spec, 'r')).rejects.toMatchObject({ httpStatus, status, transient });
  });

  it('classifies a response that is not an envelope by its HTTP status', async () => {
    const { vertex } = provider([{ status: 502, body: '<html>Bad Gateway</html>' }]);
    await expect(vertex.createJob(spec, 'r')).rejects.toMatchObject({ httpStatus: 502, transient: true });
  });

  it('classifies a network failure and a timeout as transient', async () => {
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    const { vertex } = provider([
      new TypeError('fetch failed', { cause: new Error('ECONNREFUSED') }),
      timeout,
    ]);
    await expect(vertex.createJob(spec, 'r')).rejects.toMatchObject({
      transient: true,
      status: 'UNAVAILABLE',
    });
    await expect(vertex.createJob(spec, 'r')).rejects.toMatchObject({
      transient: true,
      status: 'DEADLINE_EXCEEDED',
    });
  });

  it('never retries a create, even on a transient error', async () => {
    const { vertex, calls } = provider([
      { status: 503, body: envelope(503, 'UNAVAILABLE', 'try later') },
      { status: 200, body: { name: jobName } },
    ]);
    await expect(vertex.createJob(spec, 'r')).rejects.toMatchObject({ transient: true });
    expect(calls).toHaveLength(1);
  });

  it('treats a created job whose answer cannot be read as transient, so the job is adopted, not failed', async () => {
    const { vertex, calls } = provider([{ status: 200, body: { state: 'JOB_STATE_PENDING', labels: 'x' } }]);
    const error = await vertex.createJob(spec, 'r').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ httpStatus: 200, transient: true });
    expect((error as ProviderError).message).toContain('unexpected TuningJob shape');
    expect(calls).toHaveLength(1);
  });

  it('retries get, list and cancel on transient errors, then succeeds', async () => {
    const unavailable = { status: 503, body: envelope(503, 'UNAVAILABLE', 'try later') };
    const { vertex, calls } = provider([
      unavailable,
      { status: 200, body: { name: jobName } },
      unavailable,
      { status: 200, body: {} },
      unavailable,
      { status: 200, body: {} },
    ]);
    await vertex.getJob(jobName);
    await vertex.listJobs();
    await vertex.cancelJob(jobName);
    expect(calls).toHaveLength(6);
  });

  it('gives up after its retry budget and does not retry permanent errors', async () => {
    const unavailable = { status: 503, body: envelope(503, 'UNAVAILABLE', 'try later') };
    const { vertex, calls } = provider([
      unavailable,
      unavailable,
      unavailable,
      { status: 404, body: envelope(404, 'NOT_FOUND', 'no such job') },
    ]);
    await expect(vertex.getJob(jobName)).rejects.toMatchObject({ transient: true });
    expect(calls).toHaveLength(3);
    await expect(vertex.getJob(jobName)).rejects.toMatchObject({ transient: false, httpStatus: 404 });
    expect(calls).toHaveLength(4);
  });
});
