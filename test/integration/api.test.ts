import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveJob } from '../../functions/api/approve.ts';
import { buildDatasetRejectedEvent, eventIdFor } from '../../shared/events/index.ts';
import { jobIdFor, rejectionRecordFrom } from '../../shared/jobs/index.ts';
import { createMemoryLogger } from '../../shared/logging/index.ts';
import { reportNameFor } from '../../shared/storage/index.ts';
import { uniqueName } from '../support/names.ts';
import { type ApiStack, bucket, createJob, makeJob, startApiStack } from './api-fixtures.ts';

let stack: ApiStack;

beforeAll(async () => {
  stack = await startApiStack();
});

afterAll(async () => {
  await stack?.close();
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${stack.url}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: the assertions check the body field by field
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

const id = () => uniqueName('job').replace(/-/g, '');

describe('GET /jobs', () => {
  const team = uniqueName('team');
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    // Distinct createTimes: the list is newest first.
    const specs = [
      ['a', 'DRAFT', { team, tier: 'gold' }],
      ['b', 'RUNNING', { team, tier: 'gold' }],
      ['c', 'RUNNING', { team, tier: 'silver' }],
      ['d', 'SUCCEEDED', { team }],
      ['e', 'PENDING', { team }],
    ] as const;
    for (const [index, [name, state, labels]] of specs.entries()) {
      ids[name] = id();
      await createJob(stack, ids[name]!, {
        state,
        labels,
        createTime: new Date(Date.UTC(2030, 0, 1, 0, 0, index)).toISOString(),
      });
    }
  });

  it('filters by state, repeated or comma-separated, and by label', async () => {
    const running = await call('GET', `/jobs?state=RUNNING&label=team=${team}`);
    expect(running.status).toBe(200);
    expect(running.body.jobs.map((job: { id: string }) => job.id)).toEqual([ids.c, ids.b]);

    const comma = await call('GET', `/jobs?state=running,draft&label=team=${team}`);
    expect(comma.body.jobs.map((job: { id: string }) => job.id)).toEqual([ids.c, ids.b, ids.a]);
    const repeated = await call('GET', `/jobs?state=RUNNING&state=DRAFT&label=team=${team}`);
    expect(repeated.body.jobs).toEqual(comma.body.jobs);

    const gold = await call('GET', `/jobs?label=team=${team}&label=tier=gold`);
    expect(gold.body.jobs.map((job: { id: string }) => job.id)).toEqual([ids.b, ids.a]);
  });

  it('pages with pageSize and pageToken until no token is left', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await call(
        'GET',
        `/jobs?label=team=${team}&pageSize=2${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.jobs.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.jobs.map((job: { id: string }) => job.id));
      token = page.body.nextPageToken;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(seen).toEqual([ids.e, ids.d, ids.c, ids.b, ids.a]);
  });

  it('shows the public view: no outbox, no internals', async () => {
    const page = await call('GET', `/jobs?label=team=${team}&pageSize=1`);
    const [job] = page.body.jobs;
    expect(job.id).toBe(ids.e);
    expect(job.baseModel).toBe('gemini-2.5-flash');
    expect(job).not.toHaveProperty('outbox');
    expect(job).not.toHaveProperty('outboxLease');
  });

  it.each([
    ['pageSize=0', 'pageSize'],
    ['pageSize=501', 'pageSize'],
    ['pageSize=two', 'pageSize'],
    ['state=SLEEPING', 'state.0'],
    ['label=teamonly', 'label.0'],
    ['colour=red', 'colour'],
    ['pageToken=not-a-token', 'pageToken'],
    ['pageToken=a/b', 'pageToken'],
    ['pageToken=', 'pageToken'],
    ['pageToken=__proto__', 'pageToken'],
    ['pageToken=constructor', 'pageToken'],
    ['pageSize=2&pageSize=3', 'pageSize'],
    ['pageToken=x&pageToken=y', 'pageToken'],
    ['__proto__=1', '__proto__'],
  ])('rejects the query %s with 400 INVALID_ARGUMENT naming %s', async (query, field) => {
    const response = await call('GET', `/jobs?${query}`);
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT' });
    const fields = response.body.error.details[0].fieldViolations.map((v: { field: string }) => v.field);
    expect(fields).toContain(field);
  });
});

describe('GET /jobs/{id} and /jobs/{id}/report', () => {
  it('returns a job, and 404 NOT_FOUND in the Google error shape for an unknown id', async () => {
    const jobId = id();
    await createJob(stack, jobId);
    const found = await call('GET', `/jobs/${jobId}`);
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ id: jobId, state: 'DRAFT', estimate: { costUsd: 0.18 } });

    const missing = await call('GET', '/jobs/nosuchjob');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({
      error: { code: 404, status: 'NOT_FOUND', message: 'job nosuchjob not found' },
    });
  });

  it('rejects a malformed job id with 400', async () => {
    const response = await call('GET', '/jobs/bad.id');
    expect(response.status).toBe(400);
    expect(response.body.error.status).toBe('INVALID_ARGUMENT');
  });

  it('returns the validation report from the bucket, 404 when there is none', async () => {
    const jobId = id();
    await createJob(stack, jobId);
    const missing = await call('GET', `/jobs/${jobId}/report`);
    expect(missing.status).toBe(404);

    const report = { valid: true, model: 'gemini-2.5-flash', examples: 20, errors: [] };
    await stack.blobs.write(
      'tunedrop-test-bucket',
      `reports/incoming/${jobId}.jsonl.report.json`,
      JSON.stringify(report),
      'application/json',
    );
    const found = await call('GET', `/jobs/${jobId}/report`);
    expect(found.status).toBe(200);
    expect(found.body).toEqual(report);
  });
});

describe('POST /jobs/{id}:approve', () => {
  it('starts a DRAFT in Vertex AI, records the authenticated approver and publishes job.started', async () => {
    const jobId = id();
    await createJob(stack, jobId);
    // Cloud Run verified this ID token before the request reached the function; the body's
    // approvedBy must not outrank it.
    const claims = Buffer.from(JSON.stringify({ email: 'alice@example.com', email_verified: true })).toString(
      'base64url',
    );
    const response = await call(
      'POST',
      `/jobs/${jobId}:approve`,
      { approvedBy: 'mallory@example.com' },
      { authorization: `Bearer e30.${claims}.signature` },
    );
    expect(response.status).toBe(200);
    expect(response.body.state).toBe('PENDING');
    expect(response.body.approval).toMatchObject({ approvedBy: 'alice@example.com' });
    expect(response.body.providerJobName).toMatch(/\/tuningJobs\//);

    const atVertex = await stack.provider.findJobByRecordId(jobId);
    expect(atVertex?.name).toBe(response.body.providerJobName);
    await stack.waitForMessages((received) =>
      received.some((m) => m.id === eventIdFor(jobId, 'tunedrop.v1.job.started')),
    );
    const started = stack.received.find((m) => m.id === eventIdFor(jobId, 'tunedrop.v1.job.started'));
    expect(started?.attributes).toMatchObject({ type: 'tunedrop.v1.job.started', jobId, state: 'PENDING' });
  });

  it('takes the approver from the body when the request carries no identity', async () => {
    const jobId = id();
    await createJob(stack, jobId);
    const response = await call('POST', `/jobs/${jobId}:approve`, { approvedBy: 'bob' });
    expect(response.status).toBe(200);
    expect(response.body.approval.approvedBy).toBe('bob');
  });

  it('routes a percent-encoded colon like a plain one', async () => {
    const jobId = id();
    await createJob(stack, jobId);
    const response = await call('POST', `/jobs/${jobId}%3Aapprove`, {});
    expect(response.status).toBe(200);
    expect(response.body.state).toBe('PENDING');
  });

  it('refuses a job that is not a DRAFT with 409 FAILED_PRECONDITION, creating nothing', async () => {
    const jobId = id();
    await createJob(stack, jobId, { state: 'QUEUED' });
    const response = await call('POST', `/jobs/${jobId}:approve`, {});
    expect(response.status).toBe(409);
    expect(response.body.error).toMatchObject({ code: 409, status: 'FAILED_PRECONDITION' });
    expect(response.body.error.message).toContain('QUEUED');
    expect(await stack.provider.findJobByRecordId(jobId)).toBeUndefined();
  });

  it('refuses a draft whose dataset was replaced after validation with 409, creating nothing', async () => {
    const jobId = id();
    const job = makeJob(stack, jobId);
    await stack.store.create({ ...job, source: { ...job.source, generation: '1' } });
    const response = await call('POST', `/jobs/${jobId}:approve`, {});
    expect(response.status).toBe(409);
    expect(response.body.error).toMatchObject({ code: 409, status: 'FAILED_PRECONDITION' });
    expect(response.body.error.message).toContain(
      `the dataset was replaced after validation (generation ${stack.datasetGeneration}, validated 1)`,
    );
    expect((await stack.store.get(jobId))?.approval.approveTime).toBeUndefined();
    expect(await stack.provider.findJobByRecordId(jobId)).toBeUndefined();
  });

  it('leaves an approved draft QUEUED, due now, while the provider is at its job limit', async () => {
    const jobId = id();
    await createJob(stack, jobId);
    const busy = await stack.store.countByStates(['PENDING', 'RUNNING', 'CANCELLING'], {
      orCreateInFlight: true,
    });
    const clock = () => new Date();
    const approved = await approveJob(
      {
        ...stack,
        logger: createMemoryLogger('approve'),
        clock,
        config: { ...stack.config, maxConcurrentJobs: busy },
      },
      jobId,
      'carol',
    );
    expect(approved.state).toBe('QUEUED');
    expect(approved.nextAttemptTime).toBeDefined();
    expect(approved.approval.approvedBy).toBe('carol');
    expect(await stack.provider.findJobByRecordId(jobId)).toBeUndefined();
  });

  it('rejects an invalid body with 400 naming the field, and a body that is not JSON', async () => {
    const jobId = id();
    await createJob(stack, jobId);
    const wrongType = await call('POST', `/jobs/${jobId}:approve`, { approvedBy: 5 });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error.details[0].fieldViolations[0].field).toBe('approvedBy');
    const unknown = await call('POST', `/jobs/${jobId}:approve`, { approver: 'x' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toContain('approver');
    const notJson = await call('POST', `/jobs/${jobId}:approve`, '{not json');
    expect(notJson.status).toBe(400);
    expect((await stack.store.get(jobId))?.state).toBe('DRAFT');
  });

  it('answers 404 for an unknown job', async () => {
    const response = await call('POST', '/jobs/nosuchjob:approve', {});
    expect(response.status).toBe(404);
  });
});

describe('POST /jobs/{id}:cancel', () => {
  it('cancels a DRAFT at once and publishes job.cancelled', async () => {
    const jobId = id();
    await createJob(stack, jobId);
    const response = await call('POST', `/jobs/${jobId}:cancel`, { reason: 'not needed' });
    expect(response.status).toBe(200);
    expect(response.body.state).toBe('CANCELLED');
    expect(response.body.history.at(-1)).toMatchObject({ state: 'CANCELLED', reason: 'not needed' });
    await stack.waitForMessages((received) =>
      received.some((m) => m.id === eventIdFor(jobId, 'tunedrop.v1.job.cancelled')),
    );
  });

  it('asks Vertex AI to cancel a started job and records CANCELLING', async () => {
    const jobId = id();
    await createJob(stack, jobId);
    const approved = await call('POST', `/jobs/${jobId}:approve`, {});
    expect(approved.body.state).toBe('PENDING');
    const response = await call('POST', `/jobs/${jobId}:cancel`);
    expect(response.status).toBe(200);
    expect(response.body.state).toBe('CANCELLING');
    const atVertex = await stack.provider.getJob(approved.body.providerJobName);
    expect(['JOB_STATE_CANCELLING', 'JOB_STATE_CANCELLED']).toContain(atVertex.providerState);

    const again = await call('POST', `/jobs/${jobId}:cancel`);
    expect(again.status).toBe(200);
    expect(again.body.state).toBe('CANCELLING');
  });

  it('cancels the provider job of an interrupted start it finds by label', async () => {
    const jobId = id();
    const created = await stack.provider.createJob(
      {
        baseModel: 'gemini-2.5-flash',
        trainingDatasetUri: 'gs://tunedrop-test-bucket/incoming/support-answers.jsonl',
        labels: {},
      },
      jobId,
    );
    await createJob(stack, jobId, { state: 'QUEUED', createIntentTime: new Date().toISOString() });
    const response = await call('POST', `/jobs/${jobId}:cancel`);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ state: 'CANCELLING', providerJobName: created.name });
  });

  it('answers 409 ABORTED while a create call may still be in flight, and cancels once it is over', async () => {
    const inFlight = id();
    await createJob(stack, inFlight, { state: 'QUEUED', createIntentTime: new Date().toISOString() });
    const busy = await call('POST', `/jobs/${inFlight}:cancel`);
    expect(busy.status).toBe(409);
    expect(busy.body.error.status).toBe('ABORTED');
    expect((await stack.store.get(inFlight))?.state).toBe('QUEUED');

    const abandoned = id();
    await createJob(stack, abandoned, { state: 'QUEUED', createIntentTime: '2020-01-01T00:00:00.000Z' });
    const done = await call('POST', `/jobs/${abandoned}:cancel`);
    expect(done.status).toBe(200);
    expect(done.body.state).toBe('CANCELLED');
  });

  it('refuses a finished job with 409 FAILED_PRECONDITION', async () => {
    const jobId = id();
    await createJob(stack, jobId, { state: 'SUCCEEDED' });
    const response = await call('POST', `/jobs/${jobId}:cancel`);
    expect(response.status).toBe(409);
    expect(response.body.error.status).toBe('FAILED_PRECONDITION');
  });
});

describe('POST /jobs/{id}:replay', () => {
  it('re-publishes every outbox event with its original id', async () => {
    const jobId = id();
    await createJob(stack, jobId);
    await call('POST', `/jobs/${jobId}:cancel`);
    const ids = [
      eventIdFor(jobId, 'tunedrop.v1.job.drafted'),
      eventIdFor(jobId, 'tunedrop.v1.job.cancelled'),
    ];
    const count = (eventId: string) => stack.received.filter((m) => m.id === eventId).length;
    // The cancel flushed the outbox: both events went out once.
    await stack.waitForMessages(() => ids.every((eventId) => count(eventId) === 1));
    const before = ids.map(count);

    const response = await call('POST', `/jobs/${jobId}:replay`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ jobId, eventIds: ids });
    await stack.waitForMessages(() => ids.every((eventId, index) => count(eventId) === before[index]! + 1));
    const replayed = stack.received.filter((m) => m.id === ids[0]).at(-1);
    expect(replayed).toMatchObject({
      type: 'tunedrop.v1.job.drafted',
      attributes: { jobId, state: 'DRAFT', replay: 'true' },
    });
    // The originals carry no replay mark; the copies carry it in the body and the attributes.
    const original = stack.received.find((m) => m.id === ids[0]);
    expect(original?.attributes.replay).toBeUndefined();
    expect(original?.replay).toBeUndefined();
    expect(replayed?.replay).toBe(true);
  });

  it('answers 404 for an unknown job', async () => {
    expect((await call('POST', '/jobs/nosuchjob:replay')).status).toBe(404);
  });
});

describe('routing', () => {
  it.each([
    ['GET', '/'],
    ['GET', '/jobz'],
    ['POST', '/jobs/abc:explode'],
    ['GET', '/jobs/abc/report/extra'],
  ])('answers 404 for %s %s', async (method, path) => {
    const response = await call(method, path);
    expect(response.status).toBe(404);
    expect(response.body.error.status).toBe('NOT_FOUND');
  });

  it.each([
    ['DELETE', '/jobs/abc', 'GET'],
    ['GET', '/jobs/abc:approve', 'POST'],
    ['POST', '/jobs', 'GET'],
  ])('answers 405 for %s %s with Allow: %s', async (method, path, allow) => {
    const response = await call(method, path);
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe(allow);
  });
});

describe('errors are JSON, whatever the request', () => {
  /** Every error: the Google envelope, as JSON, with no stack, HTML or file path in it. */
  async function expectEnvelope(response: Response, code: number) {
    expect(response.status).toBe(code);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const text = await response.text();
    expect(text).not.toMatch(/<html|<!DOCTYPE|\bat .*\(|\/work\/|node_modules|\.ts:\d/i);
    const body = JSON.parse(text);
    expect(Object.keys(body)).toEqual(['error']);
    expect(body.error).toMatchObject({ code, status: expect.any(String), message: expect.any(String) });
    return body.error as { code: number; status: string; message: string };
  }

  const requests: [string, string, RequestInit, number][] = [
    [
      'a malformed JSON body',
      '/jobs/abc:approve',
      { method: 'POST', body: '{bad', headers: { 'content-type': 'application/json' } },
      400,
    ],
    ['bad percent-encoding in the path', '/jobs/%zz', { method: 'GET' }, 400],
    ['an unknown route', '/nothing/here', { method: 'GET' }, 404],
    ['favicon.ico', '/favicon.ico', { method: 'GET' }, 404],
    ['a wrong method', '/jobs', { method: 'DELETE' }, 405],
    [
      'an oversized body',
      '/jobs/abc:approve',
      { method: 'POST', body: 'x'.repeat(70 * 1024), headers: { 'content-type': 'application/json' } },
      413,
    ],
  ];

  it.each(requests)('answers %s with the JSON envelope', async (_what, path, init, code) => {
    await expectEnvelope(await fetch(`${stack.url}${path}`, init), code);
  });

  it('answers an oversized chunked body (no Content-Length) with 413', async () => {
    const chunks = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 80; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(1024)));
        controller.close();
      },
    });
    const response = await fetch(`${stack.url}/jobs/abc:cancel`, {
      method: 'POST',
      body: chunks,
      duplex: 'half',
    } as RequestInit);
    await expectEnvelope(response, 413);
  });

  describe('through the Functions Framework, as deployed', () => {
    let framework: { url: string; close(): Promise<void> };

    beforeAll(async () => {
      const functions = await import('@google-cloud/functions-framework');
      const { getTestServer } = await import('@google-cloud/functions-framework/testing');
      const { installServerHook } = await import('../../functions/server-hook.ts');
      const { guardedHttpHandler, createApiHandler } = await import('../../functions/api/index.ts');
      const handler = createApiHandler({
        config: stack.config,
        store: stack.store,
        rejections: stack.rejections,
        provider: stack.provider,
        publisher: stack.publisher,
        blobs: stack.blobs,
        logger: createMemoryLogger('api-framework'),
        clock: () => new Date(),
      });
      functions.http('api', handler);
      installServerHook({
        target: 'api',
        plainHttp: { api: () => guardedHttpHandler(handler) },
        listenHost: '127.0.0.1',
      });
      const server = getTestServer('api');
      await new Promise<void>((resolve) => server.listen(0, resolve));
      const address = server.address() as { address: string; port: number };
      expect(address.address).toBe('127.0.0.1');
      framework = {
        url: `http://127.0.0.1:${address.port}`,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
      };
    });

    afterAll(async () => {
      await framework?.close();
    });

    it.each(requests)(
      'answers %s with the JSON envelope, not Express’s HTML page',
      async (_what, path, init, code) => {
        await expectEnvelope(await fetch(`${framework.url}${path}`, init), code);
      },
    );

    it('still serves the API', async () => {
      const jobId = id();
      await createJob(stack, jobId);
      const response = await fetch(`${framework.url}/jobs/${jobId}`);
      expect(response.status).toBe(200);
      expect(((await response.json()) as { id: string }).id).toBe(jobId);
    });
  });
});

describe('rejected uploads (state REJECTED)', () => {
  /** A rejection as ingest records it, with its report in the bucket folder. */
  async function reject(object: string, createTime: string) {
    const generation = '1700000000000001';
    const jobId = jobIdFor({ bucket, object, generation });
    const reportName = reportNameFor(object);
    await mkdir(dirname(join(stack.bucketDir, reportName)), { recursive: true });
    await writeFile(
      join(stack.bucketDir, reportName),
      JSON.stringify({ status: 'rejected', generation, object: `gs://${bucket}/${object}` }),
    );
    const event = buildDatasetRejectedEvent(
      {
        jobId,
        source: { bucket, object, generation, manifest: false },
        reportUri: `gs://${bucket}/${reportName}`,
        errorCount: 2,
        errors: [
          {
            line: 3,
            field: '/contents/0/role',
            code: 'first_role',
            message: 'The first turn must be "user"',
          },
        ],
      },
      { now: new Date(createTime), project: stack.config.project },
    );
    await stack.rejections.create(rejectionRecordFrom(event));
    return { jobId, event, reportUri: `gs://${bucket}/${reportName}` };
  }

  it('lists them with state=REJECTED, with the source object and the report', async () => {
    const { jobId, reportUri } = await reject(
      `incoming/${id()}-données-日本語 #1.jsonl`,
      '2041-01-01T00:00:00.000Z',
    );
    const page = await call('GET', '/jobs?state=REJECTED&pageSize=500');
    expect(page.status).toBe(200);
    const listed = page.body.jobs.find((job: { id: string }) => job.id === jobId);
    expect(listed).toMatchObject({
      state: 'REJECTED',
      source: { bucket, manifest: false },
      validation: { reportUri },
      error: {
        code: 'first_role',
        message: '2 error(s); first: line 3, /contents/0/role: The first turn must be "user"',
      },
    });
    expect(listed).not.toHaveProperty('event');
    expect(page.body.jobs.every((job: { state: string }) => job.state === 'REJECTED')).toBe(true);
  });

  it('lists jobs and rejections together, newest first, page by page', async () => {
    // Far in the future, so these four are the newest of the whole collection.
    const jobA = id();
    const jobB = id();
    await createJob(stack, jobA, { createTime: '2050-01-01T00:00:01.000Z' });
    const r1 = await reject(`incoming/${id()}.jsonl`, '2050-01-01T00:00:02.000Z');
    await createJob(stack, jobB, { createTime: '2050-01-01T00:00:03.000Z' });
    const r2 = await reject(`incoming/${id()}.jsonl`, '2050-01-01T00:00:04.000Z');

    const first = await call('GET', '/jobs?pageSize=3');
    expect(first.body.jobs.map((job: { id: string }) => job.id)).toEqual([r2.jobId, jobB, r1.jobId]);
    const second = await call(
      'GET',
      `/jobs?pageSize=3&pageToken=${encodeURIComponent(first.body.nextPageToken)}`,
    );
    expect(second.body.jobs[0].id).toBe(jobA);

    const mixed = await call('GET', '/jobs?state=REJECTED,DRAFT&pageSize=2');
    expect(mixed.body.jobs.map((job: { id: string }) => job.id)).toEqual([r2.jobId, jobB]);
    // A label filter matches no rejection: they carry no labels.
    const labelled = await call('GET', `/jobs?state=REJECTED&label=team=${uniqueName('team')}`);
    expect(labelled.body.jobs).toEqual([]);
  });

  it('finds one by id, with its report; approve and cancel say it is REJECTED; replay re-sends its event', async () => {
    const object = `incoming/${id()}.jsonl`;
    const { jobId, event, reportUri } = await reject(object, '2042-01-01T00:00:00.000Z');

    const got = await call('GET', `/jobs/${jobId}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id: jobId, state: 'REJECTED', source: { object } });
    const report = await call('GET', `/jobs/${jobId}/report`);
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({ status: 'rejected' });

    for (const verb of ['approve', 'cancel']) {
      const refused = await call('POST', `/jobs/${jobId}:${verb}`);
      expect(refused.status).toBe(409);
      expect(refused.body.error.message).toContain(`${jobId} is a REJECTED upload (${object})`);
      expect(refused.body.error.message).toContain(reportUri);
    }

    const replayed = await call('POST', `/jobs/${jobId}:replay`);
    expect(replayed.body).toEqual({ jobId, eventIds: [event.id] });
    await stack.waitForMessages((received) => received.some((m) => m.id === event.id && m.replay));
    expect(stack.received.find((m) => m.id === event.id)?.attributes).toMatchObject({
      type: 'tunedrop.v1.dataset.rejected',
      replay: 'true',
    });
  });
});
