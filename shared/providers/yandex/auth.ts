/**
 * Credentials for Yandex AI Studio calls, as the value of the `authorization` header:
 * - an API key (`Api-Key …`), the simplest for a service account with scope
 *   yc.ai.foundationModels.execute;
 * - a service-account authorized key (the JSON `yc iam key create` writes), exchanged for an IAM
 *   token with a PS256-signed JWT at the documented IAM endpoint
 *   (POST https://iam.api.cloud.yandex.net/iam/v1/tokens {"jwt"}), refreshed before it expires;
 * - the metadata server of a Yandex Cloud VM or function (Google-compatible path and header);
 * - a fixed IAM token (short-lived: for a one-off run).
 * Tokens are never logged. Signing uses node:crypto (RSA-PSS, SHA-256, salt = hash length = PS256).
 */
import { createSign, constants as cryptoConstants } from 'node:crypto';
import { z } from 'zod';

export const iamTokenUrl = 'https://iam.api.cloud.yandex.net/iam/v1/tokens';
export const metadataTokenUrl =
  'http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/token';

/** The authorized key JSON as `yc iam key create --output key.json` writes it. */
export const ServiceAccountKey = z.object({
  id: z.string().min(1),
  service_account_id: z.string().min(1),
  private_key: z.string().includes('-----BEGIN'),
});
export type ServiceAccountKey = z.infer<typeof ServiceAccountKey>;

export type YandexAuth =
  | { kind: 'api-key'; apiKey: string }
  | { kind: 'iam-token'; iamToken: string }
  | { kind: 'service-account-key'; key: ServiceAccountKey }
  | { kind: 'metadata' };

export interface AuthOptions {
  fetch?: typeof globalThis.fetch;
  now?: () => number;
  iamTokenUrl?: string;
  metadataTokenUrl?: string;
}

/** Produces the header value for each call; caches tokens and refreshes them ahead of expiry. */
export type AuthorizationSource = () => Promise<string>;

/** Refresh this long before a token's stated expiry, and at least every hour (Yandex's advice). */
const refreshMarginMs = 5 * 60_000;
const maxTokenAgeMs = 60 * 60_000;

function base64url(value: Buffer | string): string {
  return Buffer.from(value).toString('base64url');
}

/** The JWT a service account signs to ask IAM for a token (valid for one hour). */
export function serviceAccountJwt(key: ServiceAccountKey, nowMs: number, audience = iamTokenUrl): string {
  const iat = Math.floor(nowMs / 1000);
  const header = base64url(JSON.stringify({ typ: 'JWT', alg: 'PS256', kid: key.id }));
  const payload = base64url(
    JSON.stringify({ iss: key.service_account_id, aud: audience, iat, exp: iat + 3600 }),
  );
  // Keys made by the yc CLI may carry a comment line before the PEM block.
  const pem = key.private_key.slice(key.private_key.indexOf('-----BEGIN'));
  const signature = createSign('RSA-SHA256')
    .update(`${header}.${payload}`)
    .sign({ key: pem, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  return `${header}.${payload}.${base64url(signature)}`;
}

/** An error getting a token: transient unless IAM refused the key itself (4xx). */
export class AuthError extends Error {
  override readonly name = 'AuthError';
  constructor(
    message: string,
    readonly transient: boolean,
  ) {
    super(message);
  }
}

export function createAuthorizationSource(auth: YandexAuth, options: AuthOptions = {}): AuthorizationSource {
  if (auth.kind === 'api-key') return async () => `Api-Key ${auth.apiKey}`;
  if (auth.kind === 'iam-token') return async () => `Bearer ${auth.iamToken}`;
  const doFetch = options.fetch ?? globalThis.fetch;
  const now = options.now ?? Date.now;
  let cached: { token: string; refreshAt: number } | undefined;
  let inFlight: Promise<string> | undefined;

  async function fetchToken(): Promise<{ token: string; expiresAt: number }> {
    let response: Response;
    try {
      response =
        auth.kind === 'service-account-key'
          ? await doFetch(options.iamTokenUrl ?? iamTokenUrl, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({
                jwt: serviceAccountJwt(auth.key, now(), options.iamTokenUrl ?? iamTokenUrl),
              }),
              signal: AbortSignal.timeout(10_000),
            })
          : await doFetch(options.metadataTokenUrl ?? metadataTokenUrl, {
              headers: { 'Metadata-Flavor': 'Google' },
              signal: AbortSignal.timeout(5_000),
            });
    } catch (error) {
      throw new AuthError(`cannot reach the token endpoint: ${(error as Error).message}`, true);
    }
    const text = await response.text();
    if (!response.ok) {
      // The body may echo the JWT or key id, never a secret; still, keep it short.
      throw new AuthError(
        `token request answered HTTP ${response.status}: ${text.slice(0, 200)}`,
        response.status >= 500 || response.status === 429,
      );
    }
    const body = JSON.parse(text) as Record<string, unknown>;
    if (auth.kind === 'service-account-key') {
      const parsed = z.object({ iamToken: z.string().min(1), expiresAt: z.string() }).safeParse(body);
      if (!parsed.success) throw new AuthError('IAM answered without iamToken/expiresAt', true);
      return { token: parsed.data.iamToken, expiresAt: Date.parse(parsed.data.expiresAt) };
    }
    const parsed = z.object({ access_token: z.string().min(1), expires_in: z.number() }).safeParse(body);
    if (!parsed.success) throw new AuthError('the metadata server answered without access_token', true);
    return { token: parsed.data.access_token, expiresAt: now() + parsed.data.expires_in * 1000 };
  }

  return async () => {
    if (cached && now() < cached.refreshAt) return `Bearer ${cached.token}`;
    inFlight ??= fetchToken()
      .then(({ token, expiresAt }) => {
        const obtained = now();
        const refreshAt = Math.min(
          obtained + maxTokenAgeMs,
          (Number.isFinite(expiresAt) ? expiresAt : obtained + maxTokenAgeMs) - refreshMarginMs,
        );
        cached = { token, refreshAt: Math.max(obtained, refreshAt) };
        return token;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return `Bearer ${await inFlight}`;
  };
}
