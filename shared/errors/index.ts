/**
 * The two kinds of failure of DESIGN.md. A permanent error (bad dataset, bad manifest, a 400 from
 * Vertex AI) is reported and acknowledged: retrying cannot help. A transient error (429, 5xx,
 * network) is thrown out of the function so the platform retries it.
 */
export class PermanentError extends Error {
  override readonly name = 'PermanentError';
  constructor(
    message: string,
    readonly code: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export class TransientError extends Error {
  override readonly name = 'TransientError';
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
