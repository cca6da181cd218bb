/**
 * The CLI side of the API's IAM (cli/lib/api-client.ts): the ID token goes to https URLs only,
 * redirects are not followed, and no message shows a credential. (Kept with the API's unit tests,
 * whose security it completes.)
 */
import type { GoogleAuth } from 'google-auth-library';
import { describe, expect, it, vi } from 'vitest';
import {
  ApiUnreachableError,
  authHeadersFor,
  createApiClient,
  displayUrl,
} from '../../../cli/lib/api-client.ts';

const fakeAuth = () => {
  const getIdTokenClient = vi.fn(async (_audience: string) => ({
    getRequestHeaders: async () => ({ Authorization: 'Bearer id-token-value' }),
  }));
  return { factory: () => ({ getIdTokenClient }) as unknown as GoogleAuth, getIdTokenClient };
};

describe('the CLI’s API credentials', () => {
  it('asks for no ID token for a plain http URL, in any spelling', async () => {
    for (const url of ['http://127.0.0.1:8084', 'HTTP://api.example.com', 'not a url']) {
      const { factory, getIdTokenClient } = fakeAuth();
      expect(await authHeadersFor(url, factory)()).toEqual({});
      expect(getIdTokenClient).not.toHaveBeenCalled();
    }
  });

  it('sends an ID token whose audience is the service origin to an https URL', async () => {
    const { factory, getIdTokenClient } = fakeAuth();
    const headers = await authHeadersFor('https://tunedrop-api-abc-uc.a.run.app/base', factory)();
    expect(headers).toEqual({ Authorization: 'Bearer id-token-value' });
    expect(getIdTokenClient).toHaveBeenCalledWith('https://tunedrop-api-abc-uc.a.run.app');
  });

  it('does not follow a redirect, which could carry the token elsewhere', async () => {
    const fetch = vi.fn(
      async (_url: string, _init?: RequestInit) =>
        new Response(null, { status: 302, headers: { location: 'https://evil.example.com/' } }),
    );
    const client = createApiClient({
      baseUrl: 'https://api.example.com',
      headers: async () => ({ authorization: 'Bearer id-token-value' }),
      fetch: fetch as unknown as typeof globalThis.fetch,
    });
    await expect(client.get('job-1')).rejects.toThrow(/redirect/);
    await expect(client.get('job-1')).rejects.toBeInstanceOf(ApiUnreachableError);
    expect(fetch.mock.calls[0]?.[1]).toMatchObject({ redirect: 'manual' });
  });

  it('shows no user, password, query string or token in its error messages', async () => {
    const fetch = vi.fn(async () => new Response('<html>oops</html>', { status: 500 }));
    const client = createApiClient({
      baseUrl: 'https://user:pa55@api.example.com/?key=k3y',
      headers: async () => ({ authorization: 'Bearer id-token-value' }),
      fetch: fetch as unknown as typeof globalThis.fetch,
    });
    const error = await client.list({ pageToken: 'next' }).catch((caught: Error) => caught);
    expect(error).toBeInstanceOf(ApiUnreachableError);
    for (const leaked of ['pa55', 'k3y', 'id-token-value', 'next']) {
      expect((error as Error).message).not.toContain(leaked);
    }
  });

  it('says so when no ID token can be had, without calling the API', async () => {
    const fetch = vi.fn();
    const client = createApiClient({
      baseUrl: 'https://api.example.com',
      headers: async () => {
        throw new Error('Could not load the default credentials');
      },
      fetch: fetch as unknown as typeof globalThis.fetch,
    });
    await expect(client.get('job-1')).rejects.toThrow(/identity token.*default credentials/);
    expect(fetch).not.toHaveBeenCalled();
  });

  it('displays a URL without its credentials or query', () => {
    expect(displayUrl('https://u:p@h.example.com/x?token=t')).toBe('https://h.example.com/x');
  });
});
