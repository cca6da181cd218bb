/**
 * Google's error envelope (AIP-193) as the emulator sends it: `{error:{code,message,status,details}}`
 * with the HTTP status in `code`, the canonical status name in `status`, and field violations as a
 * `google.rpc.BadRequest` detail.
 */
export interface FieldViolation {
  field: string;
  description: string;
}

export class ApiError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly status: string,
    message: string,
    readonly details: unknown[] = [],
  ) {
    super(message);
  }

  toJSON() {
    // Like Google's frontends, an empty details list is left out.
    const details = this.details.length ? { details: this.details } : {};
    return { error: { code: this.httpStatus, message: this.message, status: this.status, ...details } };
  }
}

export const badRequest = (message: string, violations: FieldViolation[] = []) =>
  new ApiError(
    400,
    'INVALID_ARGUMENT',
    message,
    violations.length
      ? [{ '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: violations }]
      : [],
  );

export const notFound = (message: string) => new ApiError(404, 'NOT_FOUND', message);

export const failedPrecondition = (message: string) => new ApiError(400, 'FAILED_PRECONDITION', message);

export const resourceExhausted = (message: string, extraDetails: unknown[] = []) =>
  new ApiError(429, 'RESOURCE_EXHAUSTED', message, [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'RATE_LIMIT_EXCEEDED',
      domain: 'googleapis.com',
      metadata: { service: 'aiplatform.googleapis.com' },
    },
    ...extraDetails,
  ]);

/**
 * The concurrent tuning jobs quota ("Global concurrent tuning jobs", SFT docs: one global quota
 * per project, shared by every region and model). The wording is Vertex's generic quota error
 * ("The following quota metrics exceed quota limits: aiplatform.googleapis.com/<metric>", seen for
 * custom jobs); the exact text and metric name for tuningJobs.create are UNCONFIRMED
 * (shared/reference/vertex-tuning-2026.md §6), so clients must key on 429 RESOURCE_EXHAUSTED only.
 */
export const concurrentJobsQuotaExceeded = (project: string, limit: number) =>
  resourceExhausted(
    'The following quota metrics exceed quota limits: aiplatform.googleapis.com/global_concurrent_tuning_jobs',
    [
      {
        '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
        violations: [
          {
            subject: `projects/${project}`,
            description: `Quota exceeded for aiplatform.googleapis.com/global_concurrent_tuning_jobs with limit ${limit}.`,
          },
        ],
      },
    ],
  );

export const unavailable = () => new ApiError(503, 'UNAVAILABLE', 'The service is currently unavailable.');
