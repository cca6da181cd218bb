import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../functions/api/errors.ts';
import { createRouter } from '../../../functions/api/router.ts';

const seen: string[] = [];
const router = createRouter<null>([
  { method: 'GET', pattern: '/jobs', handle: async () => ({ body: 'list' }) },
  { method: 'GET', pattern: '/jobs/{id}', handle: async (_, params) => ({ body: `get ${params.id}` }) },
  {
    method: 'POST',
    pattern: '/jobs/{id}:approve',
    handle: async (_, params) => {
      seen.push(params.id!);
      return { body: `approve ${params.id}` };
    },
  },
]);

async function failure(method: string, path: string): Promise<ApiError> {
  try {
    await router.dispatch(method, path, null);
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('dispatch did not fail');
}

describe('the API router', () => {
  it('splits a custom method from the id at the colon', async () => {
    expect((await router.dispatch('POST', '/jobs/abc:approve', null)).body).toBe('approve abc');
  });

  it('decodes a percent-encoded colon before matching', async () => {
    expect((await router.dispatch('POST', '/jobs/abc%3Aapprove', null)).body).toBe('approve abc');
  });

  it('ignores one trailing slash', async () => {
    expect((await router.dispatch('GET', '/jobs/', null)).body).toBe('list');
  });

  it('answers 404 for an unknown verb instead of treating it as part of the id', async () => {
    expect((await failure('POST', '/jobs/abc:explode')).code).toBe(404);
  });

  it('answers 405 with the allowed methods for a known path', async () => {
    const error = await failure('DELETE', '/jobs/abc');
    expect(error.code).toBe(405);
    expect(error.headers).toEqual({ allow: 'GET' });
  });

  it('answers 400 for a path that is not valid percent-encoding', async () => {
    expect((await failure('GET', '/jobs/%E0%A4%A')).status).toBe('INVALID_ARGUMENT');
  });
});
