/**
 * The API's routes. Each handler validates its input with zod, then calls one operation module.
 * Rejected uploads (state REJECTED, shared/jobs/rejection.ts) are listed and read here too.
 *
 *   GET  /jobs                 ?state=&label=key=value&pageSize=&pageToken=
 *   GET  /jobs:lookup          ?idPrefix=  (jobs whose id starts with it: short ids)
 *   GET  /jobs/{id}
 *   GET  /jobs/{id}/report
 *   POST /jobs/{id}:approve    {approvedBy?}
 *   POST /jobs/{id}:cancel     {reason?}
 *   POST /jobs/{id}:replay
 *   POST /jobs/{id}:continue   {trainingDataset, validationDataset?, checkpointId?, epochCount?, …, requestId?}
 */
import type { z } from 'zod';
import { publicView, rejectionView } from '../../shared/jobs/index.ts';
import { approveJob } from './approve.ts';
import { cancelJob } from './cancel.ts';
import { ContinueBody, continueJob } from './continue.ts';
import type { ApiDeps } from './deps.ts';
import { ApiError, invalidArgument } from './errors.ts';
import { authenticatedEmail, type Headers } from './identity.ts';
import { listUploads } from './listing.ts';
import { lookupJobs } from './lookup.ts';
import { replayEvents } from './replay.ts';
import { readReport } from './report.ts';
import type { Params, Route } from './router.ts';
import { ApproveBody, CancelBody, JobId, ListJobsQuery, listQueryInput, ReplayBody } from './schemas.ts';

export interface RequestContext {
  deps: ApiDeps;
  query: URLSearchParams;
  headers: Headers;
  /** The raw body; empty for none. */
  rawBody: string;
}

/** Who did it, for the record and the logs when the caller names nobody. */
const anonymous = 'anonymous';

function jobId(params: Params): string {
  const parsed = JobId.safeParse(params.id);
  if (!parsed.success) {
    const description = parsed.error.issues[0]?.message ?? 'invalid';
    throw new ApiError('INVALID_ARGUMENT', `job id: ${description}`, [{ field: 'id', description }]);
  }
  return parsed.data;
}

function body<T extends z.ZodType>(context: RequestContext, schema: T): z.infer<T> {
  let raw: unknown = {};
  if (context.rawBody.trim() !== '') {
    try {
      raw = JSON.parse(context.rawBody);
    } catch {
      throw new ApiError('INVALID_ARGUMENT', 'the request body is not valid JSON');
    }
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw invalidArgument(parsed.error, 'body');
  return parsed.data;
}

function noQuery(context: RequestContext): void {
  const names = [...new Set(context.query.keys())];
  if (names.length > 0) {
    throw new ApiError(
      'INVALID_ARGUMENT',
      `unknown query parameter${names.length > 1 ? 's' : ''}: ${names.join(', ')}`,
      names.map((field) => ({ field, description: 'unknown field' })),
    );
  }
}

/** Parameters that take one value: a second one is ambiguous, so a 400 naming it, not a guess. */
function onceEach(context: RequestContext, names: string[]): void {
  const repeated = names.filter((name) => context.query.getAll(name).length > 1);
  if (repeated.length > 0) {
    throw new ApiError(
      'INVALID_ARGUMENT',
      `query parameter${repeated.length > 1 ? 's' : ''} given more than once: ${repeated.join(', ')}`,
      repeated.map((field) => ({ field, description: 'must be given at most once' })),
    );
  }
}

export const routes: Route<RequestContext>[] = [
  {
    method: 'GET',
    pattern: '/jobs',
    async handle(context) {
      onceEach(context, ['pageSize', 'pageToken']);
      const parsed = ListJobsQuery.safeParse(listQueryInput(context.query));
      if (!parsed.success) throw invalidArgument(parsed.error, 'query');
      const { state, label, pageSize, pageToken } = parsed.data;
      try {
        return {
          body: await listUploads(context.deps, {
            states: [...new Set(state)],
            labels: Object.fromEntries(label),
            pageSize,
            pageToken,
          }),
        };
      } catch (error) {
        if ((error as { code?: unknown }).code === 'INVALID_PAGE_TOKEN') {
          throw new ApiError('INVALID_ARGUMENT', 'pageToken: not a token this API issued', [
            { field: 'pageToken', description: 'invalid page token' },
          ]);
        }
        throw error;
      }
    },
  },
  {
    method: 'GET',
    pattern: '/jobs:lookup',
    async handle(context) {
      return { body: await lookupJobs(context.deps, context.query) };
    },
  },
  {
    method: 'GET',
    pattern: '/jobs/{id}',
    async handle(context, params) {
      noQuery(context);
      const id = jobId(params);
      const job = await context.deps.store.get(id);
      if (job) return { body: publicView(job) };
      const rejection = await context.deps.rejections.get(id);
      if (rejection) return { body: rejectionView(rejection) };
      throw new ApiError('NOT_FOUND', `job ${id} not found`);
    },
  },
  {
    method: 'GET',
    pattern: '/jobs/{id}/report',
    async handle(context, params) {
      noQuery(context);
      return { body: await readReport(context.deps, jobId(params)) };
    },
  },
  {
    method: 'POST',
    pattern: '/jobs/{id}:approve',
    async handle(context, params) {
      noQuery(context);
      const id = jobId(params);
      const input = body(context, ApproveBody);
      // The identity IAM verified outranks a name the caller typed; and a caller who came with a
      // token (a deployed API) may not name someone else as the approver in the body.
      const verified = authenticatedEmail(context.headers);
      const cameWithToken =
        context.headers.authorization !== undefined ||
        context.headers['x-serverless-authorization'] !== undefined;
      const approvedBy = verified ?? (cameWithToken ? undefined : input.approvedBy) ?? anonymous;
      return { body: publicView(await approveJob(context.deps, id, approvedBy)) };
    },
  },
  {
    method: 'POST',
    pattern: '/jobs/{id}:cancel',
    async handle(context, params) {
      noQuery(context);
      const id = jobId(params);
      const input = body(context, CancelBody);
      const by = authenticatedEmail(context.headers) ?? anonymous;
      return { body: publicView(await cancelJob(context.deps, id, { by, reason: input.reason })) };
    },
  },
  {
    method: 'POST',
    pattern: '/jobs/{id}:replay',
    async handle(context, params) {
      noQuery(context);
      const id = jobId(params);
      body(context, ReplayBody);
      return { body: await replayEvents(context.deps, id) };
    },
  },
  {
    method: 'POST',
    pattern: '/jobs/{id}:continue',
    async handle(context, params) {
      noQuery(context);
      const id = jobId(params);
      return { body: await continueJob(context.deps, id, body(context, ContinueBody)) };
    },
  },
];
