/**
 * Every error that escapes ingest is classified by what it is, never by default: permanent (the
 * upload, or what tunedrop keeps about it, will fail the same way again: report, event,
 * acknowledge) or transient (the same work can succeed later: throw, Eventarc redelivers until
 * the event's age cut-off).
 *
 * The rules, in order (the first that matches decides); an error's `cause` chain is walked, so a
 * wrapper (`TypeError: fetch failed` around an ECONNRESET) is judged by what it wraps:
 *
 * | what                                                  | class     | why |
 * | ----------------------------------------------------- | --------- | --- |
 * | TransientError / PermanentError (shared/errors)        | as named  | tunedrop's own code already decided |
 * | StaleGenerationError (a generation replaced mid-read) | transient | the redelivery reads what is current (or finds the event superseded) |
 * | DestinationExistsError (412 on a create-if-absent)    | transient | a concurrent attempt made it; the retry reuses it |
 * | BlobAccessError 403 / 404 / other 4xx                 | permanent | IAM or the URI must change first |
 * | BlobAccessError 408 / 429 / 5xx                       | transient | Cloud Storage overloaded or unavailable |
 * | ProviderError                                         | its flag  | the provider's envelope: 429/5xx/timeouts transient, 4xx permanent |
 * | InvalidJobDocumentError                               | permanent | the stored record breaks the schema; re-reading it gives the same |
 * | gRPC status (Firestore, Pub/Sub) INVALID_ARGUMENT, OUT_OF_RANGE | permanent | the request built from the upload is refused (e.g. a document too large) |
 * | any other gRPC status (UNAVAILABLE, ABORTED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, INTERNAL, UNKNOWN, CANCELLED, PERMISSION_DENIED, NOT_FOUND, FAILED_PRECONDITION, UNAUTHENTICATED...) | transient | contention, overload, or tunedrop's own deployment (IAM, a missing topic or index): nothing in the upload is wrong, and fixing the deployment makes the retry succeed |
 * | network errno (ECONNRESET, ETIMEDOUT, EAI_AGAIN...), undici UND_ERR_*, AbortError/TimeoutError | transient | the network |
 * | instance resources (EMFILE, ENOSPC, ENOMEM)           | transient | another instance may have them |
 * | an HTTP status on a client error (gaxios `status`/`code`) | by status | as for Cloud Storage |
 * | RangeError "Maximum call stack size exceeded"         | permanent | the input's shape (nesting) breaks a recursive check; the same bytes do it again |
 * | ZodError, SyntaxError                                 | permanent | data failed a schema or a parser; the same data fails again |
 * | anything else (TypeError, a plain Error...)           | permanent | see below |
 *
 * Unknown errors are PERMANENT. Ingest is deterministic over an immutable input (a pinned
 * generation): every I/O failure has a known kind above, so what is left is a defect that a retry
 * reproduces. Retrying it would mean a day of silent redeliveries and no report; classified
 * permanent, the user gets a report and a `dataset.rejected` event saying the upload could not be
 * processed (re-uploading retries it), and the operator an ERROR log with the stack.
 */
import { z } from 'zod';
import { PermanentError, TransientError } from '../../shared/errors/index.ts';
import { InvalidJobDocumentError } from '../../shared/jobs/index.ts';
import { ProviderError } from '../../shared/providers/types.ts';
import { BlobAccessError, DestinationExistsError, StaleGenerationError } from '../../shared/storage/index.ts';

export interface Classification {
  kind: 'permanent' | 'transient';
  /** A short name of the rule that matched, for logs and the report. */
  rule: string;
}

const grpcCodes: Record<number, string> = {
  1: 'CANCELLED',
  2: 'UNKNOWN',
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  6: 'ALREADY_EXISTS',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  9: 'FAILED_PRECONDITION',
  10: 'ABORTED',
  11: 'OUT_OF_RANGE',
  12: 'UNIMPLEMENTED',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
  15: 'DATA_LOSS',
  16: 'UNAUTHENTICATED',
};
const permanentGrpc = new Set(['INVALID_ARGUMENT', 'OUT_OF_RANGE']);

const transientErrno = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ERR_STREAM_PREMATURE_CLOSE',
  'EMFILE',
  'ENFILE',
  'ENOMEM',
  'ENOSPC',
]);

const permanentByStatus = (status: number): Classification =>
  status === 408 || status === 429 || status >= 500
    ? { kind: 'transient', rule: `http-${status}` }
    : { kind: 'permanent', rule: `http-${status}` };

/** The rule for one error, without looking at its cause; undefined when none applies. */
function classifyOne(error: unknown): Classification | undefined {
  if (error instanceof TransientError) return { kind: 'transient', rule: `transient:${error.code}` };
  if (error instanceof PermanentError) return { kind: 'permanent', rule: `permanent:${error.code}` };
  if (error instanceof StaleGenerationError) return { kind: 'transient', rule: 'stale-generation' };
  if (error instanceof DestinationExistsError) return { kind: 'transient', rule: 'destination-exists' };
  if (error instanceof BlobAccessError) {
    return error.permanent
      ? { kind: 'permanent', rule: `storage-${error.status}` }
      : permanentByStatus(error.status);
  }
  if (error instanceof ProviderError) {
    return { kind: error.transient ? 'transient' : 'permanent', rule: `provider-${error.httpStatus}` };
  }
  if (error instanceof InvalidJobDocumentError) return { kind: 'permanent', rule: 'invalid-job-document' };
  if (error instanceof z.ZodError) return { kind: 'permanent', rule: 'schema' };
  if (error === null || typeof error !== 'object') return undefined;

  const fields = error as {
    code?: unknown;
    status?: unknown;
    name?: unknown;
    message?: unknown;
    details?: unknown;
  };
  // gRPC (Firestore, Pub/Sub): a numeric code 1-16 with `details`.
  if (typeof fields.code === 'number' && grpcCodes[fields.code] && 'details' in fields) {
    const name = grpcCodes[fields.code]!;
    return { kind: permanentGrpc.has(name) ? 'permanent' : 'transient', rule: `grpc-${name}` };
  }
  if (typeof fields.code === 'string') {
    if (transientErrno.has(fields.code) || fields.code.startsWith('UND_ERR_')) {
      return { kind: 'transient', rule: fields.code };
    }
  }
  if (fields.name === 'AbortError' || fields.name === 'TimeoutError') {
    return { kind: 'transient', rule: String(fields.name) };
  }
  // An HTTP client error (gaxios and friends) carrying its response status.
  const status = typeof fields.status === 'number' ? fields.status : fields.code;
  if (typeof status === 'number' && status >= 400 && status < 600) return permanentByStatus(status);
  if (error instanceof RangeError && /call stack/i.test(String(fields.message))) {
    return { kind: 'permanent', rule: 'stack-overflow' };
  }
  if (error instanceof SyntaxError) return { kind: 'permanent', rule: 'syntax' };
  return undefined;
}

/** Classifies an error that escaped ingest: its own kind, else its causes', else permanent. */
export function classifyIngestError(error: unknown): Classification {
  const seen = new Set<unknown>();
  for (let current = error; current !== undefined && !seen.has(current); ) {
    seen.add(current);
    const found = classifyOne(current);
    if (found) return found;
    current = current instanceof Error ? current.cause : undefined;
  }
  return { kind: 'permanent', rule: 'unknown' };
}
