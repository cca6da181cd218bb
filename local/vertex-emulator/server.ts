/**
 * The Vertex AI tuning API emulator: a `node:http` server following the v1 REST contract of
 * `projects.locations.tuningJobs` (create, get, list, cancel) closely enough for Google's own SDK,
 * plus an admin API under `/emulator/` for faults, request counts and resets. Any Authorization
 * header is accepted, and none is required.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../shared/logging/index.ts';
import { builtinCatalog, type Catalog, todayUtc } from '../../shared/models/index.ts';
import {
  ApiError,
  badRequest,
  concurrentJobsQuotaExceeded,
  notFound,
  resourceExhausted,
  unavailable,
} from './errors.ts';
import { type FaultSettings, Faults, FaultUpdate } from './faults.ts';
import { compileFilter, type ListFilterMode } from './filter.ts';
import { JobStore, type TuningJob } from './jobs.ts';
import { withNumericEnums } from './proto-json.ts';
import { validateCreate } from './validate.ts';

/** Page size when the request names none, and the most one page holds (larger values are capped). */
export const defaultPageSize = 100;
export const maxPageSize = 100;
const maxBodyBytes = 16 * 1024 * 1024;

export interface VertexEmulatorOptions {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  /** How long a job takes from create to SUCCEEDED. Default 10. */
  jobSeconds?: number;
  /** The folder standing in for buckets: gs://BUCKET/path is read from <bucketDir>/path. */
  bucketDir?: string;
  faults?: FaultUpdate;
  logger?: Logger;
  /** Clock, for tests that need one; defaults to Date.now. */
  now?: () => number;
  /** Random source for the 503 rate; defaults to Math.random. */
  random?: () => number;
  /**
   * The project's concurrent tuning jobs quota (Vertex's "Global concurrent tuning jobs"): a create
   * while this many of the project's jobs have not ended answers 429 RESOURCE_EXHAUSTED. Default:
   * no limit.
   */
  maxRunning?: number;
  /** How much of a list `filter` is honoured (filter.ts); the rest answers 400. Default `full`. */
  listFilter?: ListFilterMode;
  /** The model catalog (retirements, adapter sizes, token limits); the built-in one by default. */
  catalog?: Catalog;
}

export type ApiMethod = 'create' | 'get' | 'list' | 'cancel';
export type RequestStats = Record<ApiMethod, number> & { total: number };

export interface VertexEmulator {
  url: string;
  port: number;
  close(): Promise<void>;
  faults: { set(update: FaultUpdate): FaultSettings; get(): FaultSettings; reset(): void };
  /** Vertex API calls received so far, per method (faulted calls included). */
  stats(): RequestStats;
  resetStats(): void;
  /** Every job, newest first, as the API would return it. */
  jobs(): Promise<TuningJob[]>;
  /** Forgets jobs, faults and counters. */
  reset(): void;
}

const collection = /^\/v1\/(projects\/[^/]+\/locations\/[^/]+)\/tuningJobs$/;
const resource = /^\/v1\/(projects\/[^/]+\/locations\/[^/]+\/tuningJobs\/[^/:]+)(:cancel)?$/;

const emptyStats = (): RequestStats => ({ create: 0, get: 0, list: 0, cancel: 0, total: 0 });

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) throw badRequest('Request payload size exceeds the limit.');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const text = await readBody(request);
  if (!text.trim()) return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest(`Invalid JSON payload received. ${(error as Error).message}`);
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=UTF-8',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

// Page tokens are opaque cursors: the id of the last job served (jobs are listed newest first,
// so jobs created while a caller pages are not shifted under it) and the filter they belong to.
const encodeToken = (lastId: bigint, filter: string) =>
  Buffer.from(JSON.stringify({ after: lastId.toString(), filter })).toString('base64url');

function decodeToken(token: string, filter: string): bigint {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      after?: unknown;
      filter?: unknown;
    };
    if (typeof parsed.after === 'string' && /^\d+$/.test(parsed.after) && parsed.filter === filter)
      return BigInt(parsed.after);
  } catch {
    // fall through to the error below
  }
  throw badRequest('Invalid page token.', [
    { field: 'page_token', description: 'The page token is invalid or does not match the filter.' },
  ]);
}

export async function startVertexEmulator(options: VertexEmulatorOptions = {}): Promise<VertexEmulator> {
  const { logger } = options;
  const store = new JobStore({
    jobSeconds: options.jobSeconds ?? 10,
    bucketDir: options.bucketDir,
    now: options.now,
  });
  const faults = new Faults(options.faults ?? {}, options.random);
  const catalog = options.catalog ?? builtinCatalog();
  const now = options.now ?? Date.now;
  let stats = emptyStats();

  const count = (method: ApiMethod) => {
    stats[method]++;
    stats.total++;
  };

  async function handleApi(
    method: string,
    pathname: string,
    url: URL,
    request: IncomingMessage,
  ): Promise<[number, unknown]> {
    const inCollection = collection.exec(pathname);
    const inResource = inCollection ? null : resource.exec(pathname);
    let apiMethod: ApiMethod | undefined;
    if (inCollection && method === 'POST') apiMethod = 'create';
    else if (inCollection && method === 'GET') apiMethod = 'list';
    else if (inResource && !inResource[2] && method === 'GET') apiMethod = 'get';
    else if (inResource?.[2] && method === 'POST') apiMethod = 'cancel';
    if (!apiMethod) throw notFound(`The requested URL ${pathname} (${method}) was not found on this server.`);
    count(apiMethod);
    if (faults.rollUnavailable()) throw unavailable();
    // Google's client libraries ask for `$alt=json;enum-encoding=int` over REST and then get enums
    // as numbers; everyone else gets names.
    const encode = (url.searchParams.get('$alt') ?? '').includes('enum-encoding=int')
      ? withNumericEnums
      : (job: TuningJob) => job;

    switch (apiMethod) {
      case 'create': {
        const parent = (inCollection as RegExpExecArray)[1] as string;
        const body = await readJson(request);
        if (faults.takeRateLimit()) {
          throw resourceExhausted(
            'Quota exceeded for aiplatform.googleapis.com/tuning_jobs_per_minute. Please retry later (emulated fault).',
          );
        }
        if (faults.takeRejectCreate()) {
          const model =
            typeof (body as { baseModel?: unknown })?.baseModel === 'string'
              ? (body as { baseModel: string }).baseModel
              : 'the base model';
          throw badRequest(`Base model ${model} is not supported for tuning (emulated fault).`, [
            {
              field: 'tuning_job.base_model',
              description: `${model} is not supported for supervised tuning.`,
            },
          ]);
        }
        const validated = validateCreate(body, {
          catalog,
          today: todayUtc(new Date(now())),
          findTunedModel: (name) => store.findTunedModel(name),
        });
        // Quota after validation: an invalid request is refused as such whatever the load. Counting
        // and creating happen with no await between them, so concurrent creates cannot overshoot.
        const project = parent.split('/')[1] as string;
        const maxRunning = options.maxRunning;
        if (maxRunning !== undefined && store.activeInProject(project) >= maxRunning) {
          throw concurrentJobsQuotaExceeded(project, maxRunning);
        }
        const job = await store.create(parent, validated, faults.takeJobFate());
        logger?.info('tuning job created', { name: job.name });
        if (faults.takeUnavailableAfterCreate()) throw unavailable();
        return [200, encode(job)];
      }
      case 'get':
        return [200, encode(await store.get((inResource as RegExpExecArray)[1] as string))];
      case 'cancel': {
        await readBody(request);
        await store.cancel((inResource as RegExpExecArray)[1] as string);
        return [200, {}];
      }
      case 'list': {
        const parent = (inCollection as RegExpExecArray)[1] as string;
        const filter = url.searchParams.get('filter') ?? '';
        const predicate = compileFilter(filter, options.listFilter ?? 'full');
        const rawSize = url.searchParams.get('pageSize');
        const requested = rawSize === null || rawSize === '' ? 0 : Number(rawSize);
        if (!Number.isInteger(requested) || requested < 0) {
          throw badRequest('Invalid page size.', [
            { field: 'page_size', description: 'Page size must be a non-negative integer.' },
          ]);
        }
        const pageSize = Math.min(requested || defaultPageSize, maxPageSize);
        const token = url.searchParams.get('pageToken');
        const after = token ? decodeToken(token, filter) : undefined;
        const { listLagMs } = faults.get();
        const listedBefore = (options.now ?? Date.now)() - listLagMs;
        const matching = (await store.list(parent)).filter(
          (entry) =>
            (after === undefined || entry.id < after) &&
            predicate(entry.subject) &&
            (listLagMs === 0 || Date.parse(entry.subject.createTime) <= listedBefore),
        );
        const page = matching.slice(0, pageSize);
        const body: { tuningJobs?: TuningJob[]; nextPageToken?: string } = {};
        // proto3 JSON omits empty repeated fields and empty strings, as Vertex does.
        if (page.length) body.tuningJobs = page.map((entry) => encode(entry.job) as TuningJob);
        const last = page.at(-1);
        if (matching.length > pageSize && last) body.nextPageToken = encodeToken(last.id, filter);
        return [200, body];
      }
    }
  }

  async function handleAdmin(
    method: string,
    pathname: string,
    request: IncomingMessage,
  ): Promise<[number, unknown]> {
    if (pathname === '/emulator/faults' && method === 'GET') return [200, faults.get()];
    if (pathname === '/emulator/faults' && method === 'POST') {
      const parsed = FaultUpdate.safeParse(await readJson(request));
      if (!parsed.success) throw badRequest(`Invalid faults: ${parsed.error.message}`);
      return [200, faults.set(parsed.data)];
    }
    if (pathname === '/emulator/jobs' && method === 'GET') {
      return [200, { jobs: (await store.list()).map((entry) => entry.job) }];
    }
    if (pathname === '/emulator/stats' && method === 'GET') return [200, stats];
    if (pathname === '/emulator/reset' && method === 'POST') {
      reset();
      return [200, {}];
    }
    throw notFound(`The requested URL ${pathname} (${method}) was not found on this server.`);
  }

  function reset() {
    store.reset();
    faults.reset();
    stats = emptyStats();
  }

  const server = createServer((request, response) => {
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', 'http://emulator');
    let pathname: string;
    try {
      pathname = decodeURIComponent(url.pathname);
    } catch {
      pathname = url.pathname;
    }
    const handler = pathname.startsWith('/emulator/')
      ? handleAdmin(method, pathname, request)
      : handleApi(method, pathname, url, request);
    handler.then(
      ([status, body]) => {
        logger?.debug('vertex emulator request', { method, path: pathname, status });
        send(response, status, body);
      },
      (error: unknown) => {
        const apiError =
          error instanceof ApiError
            ? error
            : new ApiError(500, 'INTERNAL', `Internal error encountered: ${String(error)}`);
        if (!(error instanceof ApiError)) logger?.error('vertex emulator failure', { error });
        logger?.debug('vertex emulator request', { method, path: pathname, status: apiError.httpStatus });
        if (!request.complete) request.resume();
        send(response, apiError.httpStatus, apiError.toJSON());
      },
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const displayHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${displayHost === '0.0.0.0' || displayHost === '[::]' ? 'localhost' : displayHost}:${address.port}`;
  logger?.info('vertex emulator listening', {
    url,
    jobSeconds: options.jobSeconds ?? 10,
    bucketDir: options.bucketDir,
    maxRunning: options.maxRunning ?? 'unlimited',
    listFilter: options.listFilter ?? 'full',
  });

  return {
    url,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
    faults: { set: (update) => faults.set(update), get: () => faults.get(), reset: () => faults.reset() },
    stats: () => ({ ...stats }),
    resetStats: () => {
      stats = emptyStats();
    },
    jobs: async () => (await store.list()).map((entry) => entry.job),
    reset,
  };
}
