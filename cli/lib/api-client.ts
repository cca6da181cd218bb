/**
 * A client for tunedrop's admin API (functions/api). A deployed API is behind IAM, so an https URL
 * gets a Google ID token whose audience is the service URL (google-auth-library, from Application
 * Default Credentials); the local stack's http:// API needs none.
 */
import { GoogleAuth } from 'google-auth-library';
import type { JobPublicView } from '../../shared/jobs/index.ts';

/** The local stack's API port (DESIGN.md, default ports). */
export const defaultApiUrl = 'http://127.0.0.1:8084';

/** `--api` wins over TUNEDROP_API_URL, which wins over the local default. Trailing slashes dropped. */
export function resolveApiUrl(flag: string | undefined, env: Record<string, string | undefined>): string {
  const url = flag || env.TUNEDROP_API_URL || defaultApiUrl;
  return url.replace(/\/+$/, '');
}

/** The API answered with an error: its HTTP code, Google status name and message. */
export class ApiRequestError extends Error {
  override readonly name = 'ApiRequestError';
  constructor(
    readonly httpStatus: number,
    readonly status: string,
    message: string,
  ) {
    super(message);
  }
}

/** The API could not be reached, or answered something that is not the API's JSON. */
export class ApiUnreachableError extends Error {
  override readonly name = 'ApiUnreachableError';
}

export type JobView = JobPublicView;

export interface JobListPage {
  jobs: JobView[];
  nextPageToken?: string;
}

export interface ListQuery {
  states?: string[];
  /** `key=value` pairs. */
  labels?: string[];
  pageSize?: number;
  pageToken?: string;
}

/** Jobs whose id starts with a prefix (at most `limit`), and whether that is all of them. */
export interface JobLookup {
  jobs: JobView[];
  complete: boolean;
}

/** The body of `POST /jobs/{id}:continue` (functions/api/continue.ts). */
export interface ContinueRequest {
  trainingDataset: string;
  validationDataset?: string;
  checkpointId?: string;
  epochCount?: number;
  tunedModelDisplayName?: string;
  exportLastCheckpointOnly?: boolean;
  requestId?: string;
}

export interface ContinueResponse {
  manifestUri: string;
  jobId: string;
  created: boolean;
  preTunedModel: { tunedModelName: string; checkpointId?: string };
}

export interface ApiClient {
  continueJob(id: string, request: ContinueRequest): Promise<ContinueResponse>;
  readonly baseUrl: string;
  list(query?: ListQuery): Promise<JobListPage>;
  /** Jobs whose id starts with `prefix` (8 or more characters), for short ids typed by a person. */
  lookup(prefix: string): Promise<JobLookup>;
  get(id: string): Promise<JobView>;
  report(id: string): Promise<unknown>;
  approve(id: string, approvedBy?: string): Promise<JobView>;
  cancel(id: string, reason?: string): Promise<JobView>;
  replay(id: string): Promise<{ jobId: string; eventIds: string[] }>;
}

export type HeaderSource = () => Promise<Record<string, string>>;

/**
 * A URL as it may be shown to a person: without `user:password@` and without the query string
 * (either could carry a credential).
 */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * Headers for calls to `url`: an ID token for https (a deployed API), nothing otherwise. The token
 * is a bearer credential, so it never travels over plain http, where anyone on the path could
 * replay it; the local stack's http:// API needs none.
 */
export function authHeadersFor(url: string, auth: () => GoogleAuth = () => new GoogleAuth()): HeaderSource {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return async () => ({});
  }
  if (parsed.protocol !== 'https:') return async () => ({});
  const audience = parsed.origin;
  let client:
    | Promise<{ getRequestHeaders(url?: string): Promise<Headers | Record<string, string>> }>
    | undefined;
  return async () => {
    client ??= auth().getIdTokenClient(audience);
    const headers = await (await client).getRequestHeaders(url);
    return headers instanceof Headers ? Object.fromEntries(headers.entries()) : { ...headers };
  };
}

export interface ApiClientOptions {
  baseUrl: string;
  headers?: HeaderSource;
  fetch?: typeof globalThis.fetch;
}

export function createApiClient(options: ApiClientOptions): ApiClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? globalThis.fetch;
  const headers = options.headers ?? authHeadersFor(baseUrl);

  // What error messages show: never credentials or a query string.
  const shownBase = displayUrl(baseUrl);

  const call = async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => {
    const url = `${baseUrl}${path}`;
    const shown = `${shownBase}${path.split('?')[0]}`;
    let authHeaders: Record<string, string>;
    try {
      authHeaders = await headers();
    } catch (error) {
      // google-auth-library's messages name the problem (no credentials...), never a token.
      throw new ApiUnreachableError(
        `cannot get an identity token for ${shownBase}: ${(error as Error).message}`,
      );
    }
    let response: Response;
    try {
      response = await doFetch(url, {
        method,
        headers: {
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...authHeaders,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        // The API never redirects; following one could carry the ID token elsewhere.
        redirect: 'manual',
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new ApiUnreachableError(
        `cannot reach the tunedrop API at ${shownBase}: ${cause?.code ?? cause?.message ?? (error as Error).message}`,
      );
    }
    if (response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400)) {
      throw new ApiUnreachableError(
        `${method} ${shown} answered with a redirect, which is not followed; is ${shownBase} the tunedrop API?`,
      );
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      throw new ApiUnreachableError(
        `${method} ${shown} answered HTTP ${response.status} with a body that is not JSON; is ${shownBase} the tunedrop API?`,
      );
    }
    if (!response.ok) {
      const error = (parsed as { error?: { status?: unknown; message?: unknown } } | undefined)?.error;
      throw new ApiRequestError(
        response.status,
        typeof error?.status === 'string' ? error.status : `HTTP_${response.status}`,
        typeof error?.message === 'string' ? error.message : `HTTP ${response.status} from ${shown}`,
      );
    }
    return parsed as T;
  };

  const job = (id: string) => `/jobs/${encodeURIComponent(id)}`;

  return {
    baseUrl,
    list(query = {}) {
      const params = new URLSearchParams();
      for (const state of query.states ?? []) params.append('state', state);
      for (const label of query.labels ?? []) params.append('label', label);
      if (query.pageSize !== undefined) params.set('pageSize', String(query.pageSize));
      if (query.pageToken) params.set('pageToken', query.pageToken);
      const search = params.size > 0 ? `?${params}` : '';
      return call<JobListPage>('GET', `/jobs${search}`);
    },
    lookup: (prefix) => call('GET', `/jobs:lookup?${new URLSearchParams({ idPrefix: prefix })}`),
    get: (id) => call('GET', job(id)),
    report: (id) => call('GET', `${job(id)}/report`),
    approve: (id, approvedBy) => call('POST', `${job(id)}:approve`, approvedBy ? { approvedBy } : {}),
    cancel: (id, reason) => call('POST', `${job(id)}:cancel`, reason ? { reason } : {}),
    replay: (id) => call('POST', `${job(id)}:replay`, {}),
    continueJob: (id, request) => call('POST', `${job(id)}:continue`, request),
  };
}

/** Exit code for a failed call: 1 when the API said no (not found, conflict, denied), 2 otherwise. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof ApiRequestError && [401, 403, 404, 409].includes(error.httpStatus)) return 1;
  return 2;
}

/** One line for a human: the API's own message, plainly. */
export function describeError(error: unknown): string {
  if (error instanceof ApiRequestError) return `${error.message} (${error.httpStatus} ${error.status})`;
  return error instanceof Error ? error.message : String(error);
}
