import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { classifyIngestError } from '../../../functions/ingest-dataset/classify.ts';
import { PermanentError, TransientError } from '../../../shared/errors/index.ts';
import { InvalidJobDocumentError } from '../../../shared/jobs/index.ts';
import { ProviderError } from '../../../shared/providers/types.ts';
import {
  BlobAccessError,
  DestinationExistsError,
  StaleGenerationError,
} from '../../../shared/storage/index.ts';

const grpc = (code: number) =>
  Object.assign(new Error(`${code} grpc`), { code, details: 'details', metadata: {} });
const errno = (code: string) => Object.assign(new Error(code), { code });
const stackOverflow = () => {
  try {
    const recurse = (depth: number): number => recurse(depth + 1) + 1;
    return recurse(0);
  } catch (error) {
    return error;
  }
};

describe('classifying an error that escaped ingest', () => {
  it.each([
    ['TransientError', new TransientError('x', 'dataset-replaced'), 'transient'],
    ['PermanentError', new PermanentError('x', 'invalid-metadata-sidecar'), 'permanent'],
    ['a generation replaced mid-read', new StaleGenerationError('b', 'o', '1', '2'), 'transient'],
    ['a create-if-absent that found the copy', new DestinationExistsError('b', 'validated/x'), 'transient'],
    ['storage 403', new BlobAccessError('x', 403, 'b', 'o'), 'permanent'],
    ['storage 404', new BlobAccessError('x', 404, 'b', 'o'), 'permanent'],
    ['storage 400', new BlobAccessError('x', 400, 'b', 'o'), 'permanent'],
    ['storage 429', new BlobAccessError('x', 429, 'b', 'o'), 'transient'],
    ['storage 503', new BlobAccessError('x', 503, 'b', 'o'), 'transient'],
    ['provider 503', new ProviderError('x', 503, 'UNAVAILABLE', true), 'transient'],
    ['provider 400', new ProviderError('x', 400, 'INVALID_ARGUMENT', false), 'permanent'],
    ['a record that breaks the schema', new InvalidJobDocumentError('j', []), 'permanent'],
    ['gRPC UNAVAILABLE', grpc(14), 'transient'],
    ['gRPC ABORTED (transaction contention)', grpc(10), 'transient'],
    ['gRPC DEADLINE_EXCEEDED', grpc(4), 'transient'],
    ['gRPC PERMISSION_DENIED (the deployment, not the upload)', grpc(7), 'transient'],
    ['gRPC NOT_FOUND (a missing topic)', grpc(5), 'transient'],
    ['gRPC INVALID_ARGUMENT (e.g. a document too large)', grpc(3), 'permanent'],
    ['ECONNRESET', errno('ECONNRESET'), 'transient'],
    ['EAI_AGAIN', errno('EAI_AGAIN'), 'transient'],
    ['ENOSPC', errno('ENOSPC'), 'transient'],
    ['an undici error', errno('UND_ERR_SOCKET'), 'transient'],
    ['a timeout', Object.assign(new Error('t'), { name: 'TimeoutError' }), 'transient'],
    ['an HTTP 502 from a client', Object.assign(new Error('bad gateway'), { status: 502 }), 'transient'],
    ['an HTTP 400 from a client', Object.assign(new Error('bad request'), { code: 400 }), 'permanent'],
    ['a stack overflow', stackOverflow(), 'permanent'],
    ['a schema error', new z.ZodError([]), 'permanent'],
    ['a parser error', new SyntaxError('Unexpected token'), 'permanent'],
    ['an unknown error', new Error('something'), 'permanent'],
    ['a TypeError (a defect)', new TypeError('x is not a function'), 'permanent'],
    ['a thrown string', 'boom', 'permanent'],
  ])('%s is %s', (_what, error, kind) => {
    expect(classifyIngestError(error).kind).toBe(kind);
  });

  it('judges a wrapper by what it wraps (fetch failed around ECONNRESET)', () => {
    const wrapped = new TypeError('fetch failed', { cause: errno('ECONNRESET') });
    expect(classifyIngestError(wrapped)).toEqual({ kind: 'transient', rule: 'ECONNRESET' });
  });

  it('names the rule that decided, and calls an error no rule knows permanent "unknown"', () => {
    expect(classifyIngestError(new BlobAccessError('x', 403, 'b', 'o'))).toEqual({
      kind: 'permanent',
      rule: 'storage-403',
    });
    const looping = new Error('a');
    (looping as { cause?: unknown }).cause = looping;
    expect(classifyIngestError(looping)).toEqual({ kind: 'permanent', rule: 'unknown' });
  });
});
