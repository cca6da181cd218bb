/**
 * The admin API function: adapts the Functions Framework's HTTP function (Express req/res) to the
 * framework-free core in app.ts. Deployed, it sits behind IAM: Cloud Run rejects callers without
 * `roles/run.invoker` before this code runs, so there is no auth check here.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createApi } from './app.ts';
import type { ApiDeps } from './deps.ts';

export type { Api, ApiRequest, ApiResponse } from './app.ts';
export { createApi } from './app.ts';
export type { ApiDeps } from './deps.ts';
export { ApiError } from './errors.ts';

/** Bigger bodies are not something this API accepts; stop reading early. */
const maxBodyBytes = 64 * 1024;

/** The Functions Framework has already read the body into `rawBody`; a bare node:http server has not. */
async function readBody(request: IncomingMessage & { rawBody?: Buffer }): Promise<Buffer> {
  if (request.rawBody) return request.rawBody;
  if (request.readableEnded) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) break;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export type ApiHttpHandler = (
  request: IncomingMessage & { rawBody?: Buffer; originalUrl?: string },
  response: ServerResponse,
) => Promise<void>;

/** The HTTP function: register it with `functions.http('api', createApiHandler(deps))`. */
export function createApiHandler(deps: ApiDeps): ApiHttpHandler {
  const api = createApi(deps);
  return async (request, response) => {
    const result = await api.handle({
      method: request.method ?? 'GET',
      url: request.originalUrl ?? request.url ?? '/',
      headers: request.headers,
      body: await readBody(request),
    });
    response.statusCode = result.status;
    for (const [name, value] of Object.entries(result.headers)) response.setHeader(name, value);
    response.setHeader('content-type', 'application/json; charset=utf-8');
    response.setHeader('cache-control', 'no-store');
    response.end(JSON.stringify(result.body));
  };
}
