import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../shared/config/index.ts';

const base = { GOOGLE_CLOUD_PROJECT: 'p' };
const key = JSON.stringify({
  id: 'aje1',
  service_account_id: 'aje2',
  private_key: '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----',
});

describe('Yandex AI Studio configuration', () => {
  it('is off without a folder id', () => {
    expect(loadConfig(base).yandex).toBeUndefined();
  });

  it('defaults to TLS on llm.api and prefers the service-account key over an API key', () => {
    const config = loadConfig({
      ...base,
      TUNEDROP_YANDEX_FOLDER_ID: 'b1gf',
      TUNEDROP_YANDEX_SA_KEY: key,
      TUNEDROP_YANDEX_API_KEY: 'k',
    });
    expect(config.yandex).toMatchObject({
      folderId: 'b1gf',
      endpoint: 'llm.api.cloud.yandex.net:443',
      plaintext: false,
      auth: { kind: 'service-account-key', key: { id: 'aje1', service_account_id: 'aje2' } },
    });
    expect(
      loadConfig({
        ...base,
        TUNEDROP_YANDEX_FOLDER_ID: 'b1gf',
        TUNEDROP_YANDEX_API_KEY: 'k',
        TUNEDROP_YANDEX_ENDPOINT: '127.0.0.1:8091',
        TUNEDROP_YANDEX_PLAINTEXT: 'true',
      }).yandex,
    ).toEqual({
      folderId: 'b1gf',
      endpoint: '127.0.0.1:8091',
      plaintext: true,
      auth: { kind: 'api-key', apiKey: 'k' },
    });
  });

  it('refuses a folder without credentials and a malformed key, without echoing the secret', () => {
    expect(() => loadConfig({ ...base, TUNEDROP_YANDEX_FOLDER_ID: 'b1gf' })).toThrow(ConfigError);
    const error = (() => {
      try {
        loadConfig({ ...base, TUNEDROP_YANDEX_FOLDER_ID: 'b1gf', TUNEDROP_YANDEX_SA_KEY: 'not-json-secret' });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).toMatch(/TUNEDROP_YANDEX_SA_KEY is not JSON/);
    expect(error?.message).not.toContain('not-json-secret');
  });
});
