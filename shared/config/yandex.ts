/**
 * The optional Yandex AI Studio settings. Unset TUNEDROP_YANDEX_FOLDER_ID means the provider is
 * not configured (manifests asking for it are refused with that reason). Credentials, first
 * match wins: TUNEDROP_YANDEX_SA_KEY (the authorized-key JSON of a service account, from Secret
 * Manager), TUNEDROP_YANDEX_API_KEY, or TUNEDROP_YANDEX_AUTH=metadata (a Yandex Cloud runtime's
 * metadata server). TUNEDROP_YANDEX_PLAINTEXT=true is for the local emulator only.
 */
import { z } from 'zod';

export const defaultYandexEndpointSetting = 'llm.api.cloud.yandex.net:443';

export type YandexAuthSetting =
  | { kind: 'api-key'; apiKey: string }
  | { kind: 'service-account-key'; key: { id: string; service_account_id: string; private_key: string } }
  | { kind: 'metadata' };

export interface YandexConfig {
  folderId: string;
  endpoint: string;
  plaintext: boolean;
  auth: YandexAuthSetting;
}

const YandexEnv = z.object({
  TUNEDROP_YANDEX_FOLDER_ID: z.string().min(1).optional(),
  TUNEDROP_YANDEX_ENDPOINT: z
    .string()
    .regex(/^[A-Za-z0-9.-]+:\d+$/, 'must be host:port')
    .default(defaultYandexEndpointSetting),
  TUNEDROP_YANDEX_PLAINTEXT: z.enum(['true', 'false', '1', '0']).default('false'),
  TUNEDROP_YANDEX_SA_KEY: z.string().min(1).optional(),
  TUNEDROP_YANDEX_API_KEY: z.string().min(1).optional(),
  TUNEDROP_YANDEX_AUTH: z.enum(['metadata']).optional(),
});

const SaKey = z.object({
  id: z.string().min(1),
  service_account_id: z.string().min(1),
  private_key: z.string().includes('-----BEGIN'),
});

/** Undefined when Yandex is not configured; throws (with the variable's name, never its value) when misconfigured. */
export function loadYandexConfig(
  env: Record<string, string | undefined>,
  fail: (message: string) => Error,
): YandexConfig | undefined {
  const parsed = YandexEnv.safeParse(env);
  if (!parsed.success) throw fail(`invalid Yandex configuration: ${z.prettifyError(parsed.error)}`);
  const e = parsed.data;
  if (!e.TUNEDROP_YANDEX_FOLDER_ID) return undefined;
  const plaintext = e.TUNEDROP_YANDEX_PLAINTEXT === 'true' || e.TUNEDROP_YANDEX_PLAINTEXT === '1';
  let auth: YandexAuthSetting;
  if (e.TUNEDROP_YANDEX_SA_KEY) {
    let json: unknown;
    try {
      json = JSON.parse(e.TUNEDROP_YANDEX_SA_KEY);
    } catch {
      throw fail('TUNEDROP_YANDEX_SA_KEY is not JSON (expected the authorized key from `yc iam key create`)');
    }
    const key = SaKey.safeParse(json);
    if (!key.success) throw fail('TUNEDROP_YANDEX_SA_KEY lacks id, service_account_id or private_key');
    auth = { kind: 'service-account-key', key: key.data };
  } else if (e.TUNEDROP_YANDEX_API_KEY) {
    auth = { kind: 'api-key', apiKey: e.TUNEDROP_YANDEX_API_KEY };
  } else if (e.TUNEDROP_YANDEX_AUTH === 'metadata') {
    auth = { kind: 'metadata' };
  } else {
    throw fail(
      'TUNEDROP_YANDEX_FOLDER_ID is set but no credentials: set TUNEDROP_YANDEX_SA_KEY, TUNEDROP_YANDEX_API_KEY or TUNEDROP_YANDEX_AUTH=metadata',
    );
  }
  return { folderId: e.TUNEDROP_YANDEX_FOLDER_ID, endpoint: e.TUNEDROP_YANDEX_ENDPOINT, plaintext, auth };
}
