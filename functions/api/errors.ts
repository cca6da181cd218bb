/**
 * API errors in the Google style: `{ error: { code, status, message, details? } }`, with the HTTP
 * code and the canonical status name, so a client written for Google APIs reads them unchanged.
 */
import { ZodError } from 'zod';
import { ProviderError } from '../../shared/providers/index.ts';

export type ApiStatus =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'FAILED_PRECONDITION'
  | 'ABORTED'
  | 'PAYLOAD_TOO_LARGE'
  | 'INTERNAL'
  | 'UNAVAILABLE';

const httpCodes: Record<ApiStatus, number> = {
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  FAILED_PRECONDITION: 409,
  ABORTED: 409,
  PAYLOAD_TOO_LARGE: 413,
  INTERNAL: 500,
  UNAVAILABLE: 503,
};

export interface FieldViolation {
  field: string;
  description: string;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: number;
  constructor(
    readonly status: ApiStatus,
    message: string,
    readonly fieldViolations: FieldViolation[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.code = httpCodes[status];
  }

  toBody() {
    const details =
      this.fieldViolations.length > 0
        ? [{ '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: this.fieldViolations }]
        : undefined;
    return {
      error: { code: this.code, status: this.status, message: this.message, ...(details ? { details } : {}) },
    };
  }
}

/** A zod failure on a query or body as a 400 naming every offending field. */
export function invalidArgument(error: ZodError, where: 'query' | 'body'): ApiError {
  const violations = error.issues.flatMap((issue): FieldViolation[] => {
    const base = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        field: base ? `${base}.${key}` : key,
        description: 'unknown field',
      }));
    }
    return [{ field: base || where, description: issue.message }];
  });
  const message = violations.map((v) => `${v.field}: ${v.description}`).join('; ');
  return new ApiError('INVALID_ARGUMENT', `invalid ${where}: ${message}`, violations);
}

/**
 * Maps what a handler threw to the error the client sees. A provider's refusal to cancel a job it
 * has already finished is a precondition the caller can understand; its transient failures are a
 * 503 to retry; anything else is an internal error whose details stay in the logs.
 */
export function toApiError(error: unknown): { apiError: ApiError; expected: boolean } {
  if (error instanceof ApiError) return { apiError: error, expected: true };
  if (error instanceof ZodError) return { apiError: invalidArgument(error, 'body'), expected: true };
  if (error instanceof ProviderError) {
    if (error.status === 'FAILED_PRECONDITION') {
      return {
        apiError: new ApiError('FAILED_PRECONDITION', `the tuning provider refused: ${error.message}`),
        expected: true,
      };
    }
    if (error.transient) {
      return {
        apiError: new ApiError('UNAVAILABLE', `the tuning provider is unavailable: ${error.message}`),
        expected: false,
      };
    }
  }
  return { apiError: new ApiError('INTERNAL', 'internal error'), expected: false };
}
