/**
 * Turns a failed Vertex AI call into a ProviderError: the `{error:{code,message,status,details}}`
 * envelope when there is one, the HTTP status otherwise. `transient` decides retry versus report.
 */
import { ProviderError } from '../types.ts';
import { ErrorEnvelope } from './schema.ts';

const transientStatuses = new Set([
  'RESOURCE_EXHAUSTED',
  'UNAVAILABLE',
  'INTERNAL',
  'DEADLINE_EXCEEDED',
  'ABORTED',
]);

export function isTransientHttp(httpStatus: number, status?: string): boolean {
  if (status && transientStatuses.has(status)) return true;
  return httpStatus === 429 || httpStatus === 408 || httpStatus >= 500;
}

const statusByHttp: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  501: 'NOT_IMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/** Builds the error from a non-2xx response body (already read as text). */
export function errorFromResponse(httpStatus: number, bodyText: string, what: string): ProviderError {
  let json: unknown;
  try {
    json = JSON.parse(bodyText);
  } catch {
    json = undefined;
  }
  const parsed = ErrorEnvelope.safeParse(json);
  if (parsed.success) {
    const { message, status, details } = parsed.data.error;
    return new ProviderError(
      `${what}: ${message || status}`,
      httpStatus,
      status,
      isTransientHttp(httpStatus, status),
      details,
    );
  }
  const status = statusByHttp[httpStatus] ?? (httpStatus >= 500 ? 'UNAVAILABLE' : 'UNKNOWN');
  const snippet = bodyText.slice(0, 200).trim();
  return new ProviderError(
    `${what}: HTTP ${httpStatus}${snippet ? ` ${snippet}` : ''}`,
    httpStatus,
    status,
    isTransientHttp(httpStatus),
  );
}

/** A call that never got a response: timeout, refused connection, DNS. Always transient. */
export function errorFromNetwork(error: unknown, what: string): ProviderError {
  const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
  const reason =
    error instanceof Error
      ? error.cause instanceof Error
        ? error.cause.message
        : error.message
      : String(error);
  return new ProviderError(
    `${what}: ${timedOut ? 'timed out' : `network error: ${reason}`}`,
    0,
    timedOut ? 'DEADLINE_EXCEEDED' : 'UNAVAILABLE',
    true,
  );
}
