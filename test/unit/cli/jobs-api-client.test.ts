import { describe, expect, it } from 'vitest';
import { ApiRequestError, createApiClient, exitCodeFor, resolveApiUrl } from '../../../cli/lib/api-client.ts';

describe('the API client', () => {
  it('takes the URL from the flag, then TUNEDROP_API_URL, then the local stack', () => {
    expect(resolveApiUrl('https://api.example.com/', { TUNEDROP_API_URL: 'http://x' })).toBe(
      'https://api.example.com',
    );
    expect(resolveApiUrl(undefined, { TUNEDROP_API_URL: 'http://x:1' })).toBe('http://x:1');
    expect(resolveApiUrl(undefined, {})).toBe('http://127.0.0.1:8084');
  });

  it('builds custom-method paths and list queries, with the auth headers it is given', async () => {
    const requests: { url: string; method: string; headers: Record<string, string>; body?: string }[] = [];
    const client = createApiClient({
      baseUrl: 'https://api.example.com',
      headers: async () => ({ authorization: 'Bearer t' }),
      fetch: (async (url: string, init: RequestInit) => {
        requests.push({
          url,
          method: init.method ?? 'GET',
          headers: init.headers as Record<string, string>,
          body: init.body as string | undefined,
        });
        return new Response(JSON.stringify({ jobs: [] }), { status: 200 });
      }) as typeof fetch,
    });
    await client.list({ states: ['RUNNING', 'PENDING'], labels: ['team=a'], pageSize: 5 });
    await client.approve('abc', 'dan');
    expect(requests[0]?.url).toBe(
      'https://api.example.com/jobs?state=RUNNING&state=PENDING&label=team%3Da&pageSize=5',
    );
    expect(requests[1]).toMatchObject({
      url: 'https://api.example.com/jobs/abc:approve',
      method: 'POST',
      body: '{"approvedBy":"dan"}',
    });
    expect(requests[1]?.headers.authorization).toBe('Bearer t');
  });

  it('turns a Google-style error into an ApiRequestError with its message', async () => {
    const client = createApiClient({
      baseUrl: 'http://local',
      fetch: (async () =>
        new Response(
          JSON.stringify({ error: { code: 409, status: 'FAILED_PRECONDITION', message: 'is RUNNING' } }),
          {
            status: 409,
          },
        )) as unknown as typeof fetch,
    });
    const error = await client.get('x').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiRequestError);
    expect(error).toMatchObject({ httpStatus: 409, status: 'FAILED_PRECONDITION', message: 'is RUNNING' });
    expect(exitCodeFor(error)).toBe(1);
  });

  it('exits 2 for invalid arguments, server errors and anything that is not an API answer', () => {
    expect(exitCodeFor(new ApiRequestError(400, 'INVALID_ARGUMENT', 'x'))).toBe(2);
    expect(exitCodeFor(new ApiRequestError(503, 'UNAVAILABLE', 'x'))).toBe(2);
    expect(exitCodeFor(new Error('network'))).toBe(2);
  });
});
