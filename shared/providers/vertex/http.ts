/**
 * The HTTP transport of the Vertex AI client: one JSON exchange with credentials, and a retrying
 * variant for the calls that are safe to repeat. Real endpoints get google-auth-library
 * credentials; an `http://` endpoint (the local emulator) gets none, so it works on a machine with
 * no Google login. Errors come out as ProviderError, transient or permanent (errors.ts).
 */
import { GoogleAuth } from 'google-auth-library';
import type { Logger } from '../../logging/index.ts';
import { ProviderError } from '../types.ts';
import { errorFromNetwork, errorFromResponse } from './errors.ts';

/** Anything that can produce request headers: google-auth-library's GoogleAuth or a test double. */
export interface AuthHeaders {
  getRequestHeaders(url?: string): Promise<Headers | Record<string, string>>;
}

export interface VertexHttpOptions {
  /** Base URL without a trailing slash; an `http://` URL is the emulator. */
  endpoint: string;
  fetch: typeof globalThis.fetch;
  auth: AuthHeaders | undefined;
  logger: Logger | undefined;
  timeoutMs: number;
  /** Tries of a transient error for callWithRetry, at least 1. */
  attempts: number;
  baseDelayMs: number;
}

export interface VertexHttp {
  /** One HTTP exchange; throws ProviderError on any failure. Never retried (createJob relies on it). */
  call(method: 'GET' | 'POST', path: string, what: string, body?: unknown): Promise<unknown>;
  /** For calls that are safe to repeat: retries transient errors with full-jitter backoff. */
  callWithRetry(method: 'GET' | 'POST', path: string, what: string): Promise<unknown>;
  /** Requests sent so far, retries included. */
  requestCount(): number;
}

const cloudPlatformScope = 'https://www.googleapis.com/auth/cloud-platform';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createVertexHttp(options: VertexHttpOptions): VertexHttp {
  const { endpoint, timeoutMs, attempts, baseDelayMs, logger } = options;
  const doFetch = options.fetch;
  const isEmulator = endpoint.startsWith('http://');
  let requests = 0;
  let auth = options.auth;

  async function authHeaders(url: string): Promise<Record<string, string>> {
    if (!auth) {
      if (isEmulator) return {};
      auth = new GoogleAuth({ scopes: [cloudPlatformScope] });
    }
    const headers = await auth.getRequestHeaders(url);
    return headers instanceof Headers ? Object.fromEntries(headers.entries()) : headers;
  }

  async function call(method: 'GET' | 'POST', path: string, what: string, body?: unknown): Promise<unknown> {
    const url = `${endpoint}/v1/${path}`;
    requests++;
    let response: Response;
    let text: string;
    try {
      const headers: Record<string, string> = { accept: 'application/json', ...(await authHeaders(url)) };
      if (body !== undefined) headers['content-type'] = 'application/json';
      response = await doFetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      if (error instanceof ProviderError) throw error;
      throw errorFromNetwork(error, what);
    }
    if (!response.ok) throw errorFromResponse(response.status, text, what);
    try {
      return text ? JSON.parse(text) : {};
    } catch {
      throw new ProviderError(`${what}: response is not JSON`, response.status, 'INTERNAL', true);
    }
  }

  async function callWithRetry(method: 'GET' | 'POST', path: string, what: string): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call(method, path, what);
      } catch (error) {
        if (!(error instanceof ProviderError) || !error.transient || attempt >= attempts) throw error;
        const delay = Math.random() * baseDelayMs * 2 ** (attempt - 1);
        logger?.warn('vertex call failed, retrying', {
          what,
          attempt,
          status: error.status,
          delayMs: Math.round(delay),
        });
        await sleep(delay);
      }
    }
  }

  return { call, callWithRetry, requestCount: () => requests };
}
