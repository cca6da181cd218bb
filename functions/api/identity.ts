/**
 * Who is calling. Deployed, the API sits behind IAM: Cloud Run checks the caller's ID token (the
 * `run.invoker` role) before a request reaches this code, and IAP, when in front, adds
 * `X-Goog-Authenticated-User-Email`. So the identity in these headers was verified upstream and
 * is only read here, never verified again. Locally there is no IAM and no identity.
 */
export type Headers = Record<string, string | string[] | undefined>;

const header = (headers: Headers, name: string): string | undefined => {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
};

/** The email in a JWT's payload (signature not checked: see above), if any. */
function emailFromBearer(authorization: string | undefined): string | undefined {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  const payload = token?.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { email?: unknown };
    return typeof claims.email === 'string' && claims.email ? claims.email : undefined;
  } catch {
    return undefined;
  }
}

/** The authenticated caller's email, from IAP's header or the ID token Cloud Run checked. */
export function authenticatedEmail(headers: Headers): string | undefined {
  const iap = header(headers, 'x-goog-authenticated-user-email');
  // IAP's form is `accounts.google.com:user@example.com`.
  if (iap) return iap.includes(':') ? iap.slice(iap.lastIndexOf(':') + 1) : iap;
  return emailFromBearer(header(headers, 'authorization'));
}
