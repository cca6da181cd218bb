import { PassThrough, type Readable } from 'node:stream';

/**
 * A blob store call that Cloud Storage (or the local folder) answered with an error status. The
 * status is what callers decide on: 403 and 404 are permanent (retrying cannot help until someone
 * changes IAM or the URI), 429 and 5xx are transient. Errors without a status (network, DNS) are
 * left as they were raised.
 */
export class BlobAccessError extends Error {
  override readonly name: string = 'BlobAccessError';
  constructor(
    message: string,
    /** The HTTP status: 403 forbidden, 404 not found, 429, 5xx... */
    readonly status: number,
    readonly bucket: string,
    readonly object: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** 403 or 404: the object cannot be read until someone grants access or fixes the URI. */
  get permanent(): boolean {
    return this.status === 403 || this.status === 404;
  }
}

/**
 * A read pinned to a generation that is no longer the object's current one: it was replaced by a
 * newer upload (or deleted) after the caller learnt the generation. Cloud Storage answers such a
 * read with 404, so this is a permanent 404; the caller's event is stale, not its data invalid.
 */
export class StaleGenerationError extends BlobAccessError {
  override readonly name = 'StaleGenerationError';
  constructor(
    bucket: string,
    object: string,
    /** The generation the caller asked for. */
    readonly generation: string,
    /** The current generation, when known (the local store knows it; Cloud Storage does not say). */
    readonly currentGeneration: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(
      `gs://${bucket}/${object}: generation ${generation} is no longer current${currentGeneration ? ` (now ${currentGeneration})` : ''}`,
      404,
      bucket,
      object,
      options,
    );
  }
}

/**
 * A create-if-absent write (`ifGenerationMatch: 0`) found the destination already there: Cloud
 * Storage's 412 Precondition Failed. Not an error of the data: typically an earlier attempt of the
 * same work already made it.
 */
export class DestinationExistsError extends BlobAccessError {
  override readonly name = 'DestinationExistsError';
  constructor(bucket: string, object: string, options?: { cause?: unknown }) {
    super(`gs://${bucket}/${object} already exists`, 412, bucket, object, options);
  }
}

/** A numeric HTTP status on a Cloud Storage client error (`ApiError.code`), if it has one. */
function httpStatusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' && code >= 400 && code < 600 ? code : undefined;
}

/**
 * Wraps a Cloud Storage client error that carries an HTTP status; anything else unchanged. A 404
 * for a read pinned to `generation` means that generation is gone: a StaleGenerationError.
 */
export function fromGcsError(error: unknown, bucket: string, object: string, generation?: string): unknown {
  if (error instanceof BlobAccessError) return error;
  const status = httpStatusOf(error);
  if (status === undefined) return error;
  if (status === 404 && generation !== undefined) {
    return new StaleGenerationError(bucket, object, generation, undefined, { cause: error });
  }
  const reason = (error as Error).message || `HTTP ${status}`;
  return new BlobAccessError(`gs://${bucket}/${object}: ${reason}`, status, bucket, object, { cause: error });
}

const statusByErrno: Record<string, number> = { ENOENT: 404, ENOTDIR: 404, EACCES: 403, EPERM: 403 };

/** The local folder's equivalent: a missing file is a 404, an unreadable one a 403. */
export function fromFsError(error: unknown, bucket: string, object: string): unknown {
  const status = statusByErrno[(error as NodeJS.ErrnoException | null)?.code ?? ''];
  if (status === undefined) return error;
  return new BlobAccessError(
    `gs://${bucket}/${object}: ${(error as Error).message}`,
    status,
    bucket,
    object,
    {
      cause: error,
    },
  );
}

/**
 * The same stream, with its error replaced by `map(error)`: a read stream reports a missing or
 * forbidden object when it is consumed, not when it is created. Destroying the result (a reader
 * that stops early) destroys the source.
 */
export function mapStreamErrors(source: Readable, map: (error: unknown) => unknown): Readable {
  const out = new PassThrough({ highWaterMark: source.readableHighWaterMark });
  source.on('error', (error) => out.destroy(map(error) as Error));
  out.on('close', () => source.destroy());
  return source.pipe(out);
}
