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

import { ApiError } from './errors.ts';

export { ApiError } from './errors.ts';

/** Bigger bodies are not something this API accepts: 413, without reading the rest. */
export const maxBodyBytes = 64 * 1024;

const tooLarge = Symbol('too large');

/**
 * The request body, or `tooLarge` past maxBodyBytes (told by Content-Length before reading, or
 * counted while reading a chunked body). The Functions Framework may already have read it into
 * `rawBody`; a bare node:http server has not.
 */
async function readBody(request: IncomingMessage & { rawBody?: Buffer }): Promise<Buffer | typeof tooLarge> {
  if (request.rawBody) return request.rawBody.length > maxBodyBytes ? tooLarge : request.rawBody;
  if (Number(request.headers['content-length'] ?? 0) > maxBodyBytes) return tooLarge;
  if (request.readableEnded) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) return tooLarge;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function send(response: ServerResponse, status: number, headers: Record<string, string>, body: unknown) {
  response.statusCode = status;
  for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
  response.setHeader('content-type', 'application/json; charset=utf-8');
  response.setHeader('cache-control', 'no-store');
  response.end(JSON.stringify(body));
}

/**
 * Serves `handler` straight from node:http, answering anything it throws (a configuration that
 * does not load, a bug) with the JSON envelope of a 500, never a stack or an HTML page.
 */
export function guardedHttpHandler(handler: ApiHttpHandler) {
  return (request: IncomingMessage, response: ServerResponse): void => {
    const fail = (error: unknown) => {
      console.error(
        JSON.stringify({
          severity: 'ERROR',
          message: 'api request failed before routing',
          error: String(error),
        }),
      );
      if (!response.headersSent) send(response, 500, {}, new ApiError('INTERNAL', 'internal error').toBody());
      else response.destroy();
    };
    try {
      handler(request, response).catch(fail);
    } catch (error) {
      fail(error);
    }
  };
}

export type ApiHttpHandler = (
  request: IncomingMessage & { rawBody?: Buffer; originalUrl?: string },
  response: ServerResponse,
) => Promise<void>;

/** The HTTP function: register it with `functions.http('api', createApiHandler(deps))`. */
export function createApiHandler(deps: ApiDeps): ApiHttpHandler {
  const api = createApi(deps);
  return async (request, response) => {
    const body = await readBody(request);
    if (body === tooLarge) {
      // The rest of the body is not read: close the connection rather than drain it.
      const error = new ApiError(
        'PAYLOAD_TOO_LARGE',
        `the request body is larger than ${maxBodyBytes} bytes`,
      );
      send(response, error.code, { connection: 'close' }, error.toBody());
      return;
    }
    const result = await api.handle({
      method: request.method ?? 'GET',
      url: request.originalUrl ?? request.url ?? '/',
      headers: request.headers,
      body,
    });
    send(response, result.status, result.headers, result.body);
  };
}
