/**
 * The admin API as a function from request to response, with no HTTP framework in it: index.ts
 * adapts the Functions Framework's req/res to it, and tests can call it either way.
 */
import type { ApiDeps } from './deps.ts';
import { toApiError } from './errors.ts';
import type { Headers } from './identity.ts';
import { logs } from './logs.ts';
import { createRouter } from './router.ts';
import { type RequestContext, routes } from './routes.ts';

export interface ApiRequest {
  method: string;
  /** Path and query, e.g. `/jobs?state=RUNNING`. */
  url: string;
  /** Lower-case names, as Node gives them. */
  headers: Headers;
  body?: string | Buffer;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export interface Api {
  handle(request: ApiRequest): Promise<ApiResponse>;
}

export function createApi(deps: ApiDeps): Api {
  const router = createRouter<RequestContext>(routes);
  return {
    async handle(request) {
      const url = new URL(request.url, 'http://api.invalid');
      const context: RequestContext = {
        deps,
        query: url.searchParams,
        headers: request.headers,
        rawBody: request.body === undefined ? '' : request.body.toString(),
      };
      try {
        const result = await router.dispatch(request.method, url.pathname, context);
        return { status: result.status ?? 200, headers: {}, body: result.body };
      } catch (error) {
        const { apiError, expected } = toApiError(error);
        if (apiError.status === 'UNAVAILABLE')
          logs.providerUnavailable(deps.logger, request.method, url.pathname, error);
        else if (!expected) logs.requestFailed(deps.logger, request.method, url.pathname, error);
        return { status: apiError.code, headers: apiError.headers, body: apiError.toBody() };
      }
    },
  };
}
