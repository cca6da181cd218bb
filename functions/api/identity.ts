/**
 * Who is calling. Deployed, the API is a Cloud Run service behind IAM: Cloud Run checks the
 * caller's Google ID token (signature, expiry, audience, `run.invoker`) before a request reaches this
 * code, then passes the token on with its signature stripped. So the one identity worth believing is
 * the email claim of the token Cloud Run checked:
 *
 * - `X-Serverless-Authorization`, when present: Cloud Run checks that header *instead of*
 *   `Authorization` and hands `Authorization` through unchecked, so a caller holding run.invoker
 *   could put any unsigned JWT there. When it is present, `Authorization` is never read.
 * - otherwise `Authorization: Bearer`.
 *
 * `X-Goog-Authenticated-User-Email` is IAP's header, but nothing stops a caller from sending it
 * straight to the Cloud Run URL, where no IAP strips it. It is believed only when the deployment says
 * every path to the service goes through IAP (`trustIapHeader`); tunedrop's Terraform puts no IAP in
 * front, so by default it is ignored.
 *
 * Locally there is no IAM: nothing here is verified, and the local stack claims no security.
 */
export type Headers = Record<string, string | string[] | undefined>;

export interface IdentityOptions {
  /**
   * Believe IAP's `X-Goog-Authenticated-User-Email`. Only when IAP is enabled on the service and
   * ingress admits nothing else (otherwise anyone with run.invoker can claim any email).
   */
  trustIapHeader?: boolean;
}

/** One header's value; a repeated header is ambiguous and counts as absent. */
const header = (headers: Headers, name: string): string | undefined => {
  const value = headers[name.toLowerCase()];
  if (Array.isArray(value)) return value.length === 1 ? value[0] : undefined;
  return value;
};

/**
 * The email in a JWT's payload. The signature is not checked here (Cloud Run checked it and
 * removed it); an email the issuer marks unverified is not an identity.
 */
function emailFromBearer(authorization: string | undefined): string | undefined {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  const payload = token?.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      email?: unknown;
      email_verified?: unknown;
    };
    if (claims.email_verified === false || claims.email_verified === 'false') return undefined;
    return typeof claims.email === 'string' && claims.email ? claims.email : undefined;
  } catch {
    return undefined;
  }
}

/** The authenticated caller's email, from the ID token Cloud Run checked (or IAP's, when trusted). */
export function authenticatedEmail(headers: Headers, options: IdentityOptions = {}): string | undefined {
  if (options.trustIapHeader) {
    const iap = header(headers, 'x-goog-authenticated-user-email');
    // IAP's form is `accounts.google.com:user@example.com`.
    if (iap) return iap.includes(':') ? iap.slice(iap.lastIndexOf(':') + 1) : iap;
  }
  if (headers['x-serverless-authorization'] !== undefined) {
    return emailFromBearer(header(headers, 'x-serverless-authorization'));
  }
  return emailFromBearer(header(headers, 'authorization'));
}
