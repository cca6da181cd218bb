import { constants, createVerify, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createAuthorizationSource,
  iamTokenUrl,
  serviceAccountJwt,
} from '../../../../shared/providers/yandex/index.ts';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const key = {
  id: 'ajekeyid',
  service_account_id: 'ajeserviceaccount',
  private_key: `PLEASE DO NOT REMOVE THIS LINE! Yandex.Cloud SA Key ID <ajekeyid>\n${privateKey.export({ type: 'pkcs8', format: 'pem' })}`,
};

describe('Yandex credentials', () => {
  it('signs a PS256 JWT for the IAM token exchange that verifies with the public key', () => {
    const jwt = serviceAccountJwt(key, Date.parse('2026-12-03T08:00:00Z'));
    const [header, payload, signature] = jwt.split('.');
    expect(JSON.parse(Buffer.from(header ?? '', 'base64url').toString())).toEqual({
      typ: 'JWT',
      alg: 'PS256',
      kid: 'ajekeyid',
    });
    expect(JSON.parse(Buffer.from(payload ?? '', 'base64url').toString())).toEqual({
      iss: 'ajeserviceaccount',
      aud: iamTokenUrl,
      iat: 1796284800,
      exp: 1796288400,
    });
    const valid = createVerify('RSA-SHA256')
      .update(`${header}.${payload}`)
      .verify(
        { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
        Buffer.from(signature ?? '', 'base64url'),
      );
    expect(valid).toBe(true);
  });

  it('exchanges the key once, reuses the token, and refreshes it before it expires', async () => {
    let clock = Date.parse('2026-12-03T08:00:00Z');
    const requests: unknown[] = [];
    const fetch = (async (url: string, init: RequestInit) => {
      requests.push({ url, body: JSON.parse(String(init.body)) });
      return new Response(
        JSON.stringify({
          iamToken: `t1.token-${requests.length}`,
          expiresAt: new Date(clock + 12 * 3600_000).toISOString(),
        }),
      );
    }) as unknown as typeof globalThis.fetch;
    const source = createAuthorizationSource(
      { kind: 'service-account-key', key },
      { fetch, now: () => clock },
    );
    expect(await Promise.all([source(), source()])).toEqual(['Bearer t1.token-1', 'Bearer t1.token-1']);
    clock += 30 * 60_000;
    expect(await source()).toBe('Bearer t1.token-1');
    clock += 31 * 60_000;
    expect(await source()).toBe('Bearer t1.token-2');
    expect(requests).toHaveLength(2);
    expect(requests[0]).toMatchObject({ url: iamTokenUrl, body: { jwt: expect.stringMatching(/^ey/) } });
  });

  it('sends an API key as Api-Key and a refused key exchange as a permanent error', async () => {
    expect(await createAuthorizationSource({ kind: 'api-key', apiKey: 'AQVN123' })()).toBe('Api-Key AQVN123');
    const fetch = (async () =>
      new Response('{"message":"bad key"}', { status: 400 })) as unknown as typeof globalThis.fetch;
    const source = createAuthorizationSource({ kind: 'service-account-key', key }, { fetch });
    await expect(source()).rejects.toMatchObject({ name: 'AuthError', transient: false });
  });
});
