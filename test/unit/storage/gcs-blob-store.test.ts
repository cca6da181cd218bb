/**
 * The Cloud Storage blob store against a local HTTP server speaking the parts of the GCS JSON API
 * it uses (object metadata and `alt=media` downloads), reached through the client's `apiEndpoint`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BlobAccessError,
  type BlobStore,
  createGcsBlobStore,
  DestinationExistsError,
  StaleGenerationError,
} from '../../../shared/storage/index.ts';

const content = '{"contents": []}\n';
const currentGeneration = '1700000000000001';
/** The `generation` query parameter of every request, to see which reads were pinned. */
const requestedGenerations: (string | null)[] = [];
/** Buckets that answer every request with an error status, the way Cloud Storage words them. */
const failing: Record<string, { code: number; message: string }> = {
  'forbidden-bucket': {
    code: 403,
    message: 'ingest@p.iam.gserviceaccount.com does not have storage.objects.get access to the object.',
  },
  'busy-bucket': { code: 429, message: 'The rate of change requests to the object is too high.' },
  'flaky-bucket': { code: 503, message: 'Backend Error' },
};

/** Every objects.rewrite request: its query parameters and body. */
const rewrites: { path: string; query: Record<string, string>; body: Record<string, unknown> }[] = [];

let server: Server;
let blobs: BlobStore;

beforeAll(async () => {
  server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const match = /^\/storage\/v1\/b\/([^/]+)\/o\/([^/]+)$/.exec(url.pathname);
    const answer = (code: number, body: unknown) => {
      response.writeHead(code, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    const rewrite = /^\/storage\/v1\/b\/([^/]+)\/o\/([^/]+)\/rewriteTo\/b\/([^/]+)\/o\/([^/]+)$/.exec(
      url.pathname,
    );
    if (rewrite && request.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      const query = Object.fromEntries(url.searchParams);
      rewrites.push({ path: url.pathname, query, body });
      const destination = decodeURIComponent(rewrite[4]!);
      if (destination.endsWith('exists.jsonl')) {
        return answer(412, {
          error: { code: 412, message: 'At least one of the pre-conditions you specified did not hold.' },
        });
      }
      if (query.sourceGeneration !== currentGeneration) {
        return answer(404, { error: { code: 404, message: 'No such object: data-bucket/train.jsonl' } });
      }
      return answer(200, {
        kind: 'storage#rewriteResponse',
        done: true,
        resource: {
          bucket: decodeURIComponent(rewrite[3]!),
          name: destination,
          generation: '1800000000000001',
          size: String(Buffer.byteLength(content)),
          contentType: body.contentType,
          metadata: body.metadata,
          updated: '2025-01-02T00:00:00.000Z',
        },
      });
    }
    if (!match) return answer(400, { error: { code: 400, message: `unexpected ${url.pathname}` } });
    const bucket = decodeURIComponent(match[1]!);
    const name = decodeURIComponent(match[2]!);
    const failure = failing[bucket];
    if (failure)
      return answer(failure.code, { error: { ...failure, errors: [{ message: failure.message }] } });
    const generation = url.searchParams.get('generation');
    requestedGenerations.push(generation);
    // Without object versioning, only the live generation can be read; any other is a 404.
    const wrongGeneration = generation !== null && generation !== currentGeneration;
    if (bucket !== 'data-bucket' || name !== 'train.jsonl' || wrongGeneration) {
      return answer(404, { error: { code: 404, message: `No such object: ${bucket}/${name}` } });
    }
    if (url.searchParams.get('alt') === 'media') {
      response.writeHead(200, { 'content-type': 'application/jsonl' });
      return response.end(content);
    }
    return answer(200, {
      kind: 'storage#object',
      bucket,
      name,
      generation: currentGeneration,
      metageneration: '1',
      size: String(Buffer.byteLength(content)),
      contentType: 'application/jsonl',
      metadata: { 'base-model': 'gemini-3.5-flash' },
      updated: '2025-01-01T00:00:00.000Z',
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  // No client-side retries: each call is one request, so a 503 surfaces at once.
  const storage = new Storage({
    apiEndpoint: `http://127.0.0.1:${port}`,
    projectId: 'tunedrop-test',
    retryOptions: { autoRetry: false },
  });
  blobs = createGcsBlobStore({ storage });
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const text = async (stream: NodeJS.ReadableStream) => {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

const accessError = async (promise: Promise<unknown>): Promise<BlobAccessError> => {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(BlobAccessError);
  return error as BlobAccessError;
};

describe('Cloud Storage blob store', () => {
  it('reads an object, its text and its metadata', async () => {
    expect(await blobs.stat('data-bucket', 'train.jsonl')).toMatchObject({
      generation: '1700000000000001',
      size: Buffer.byteLength(content),
      metadata: { 'base-model': 'gemini-3.5-flash' },
    });
    expect(await blobs.readText('data-bucket', 'train.jsonl')).toBe(content);
    expect(await text(blobs.read('data-bucket', 'train.jsonl'))).toBe(content);
  });

  it('reads the generation it is asked for, and asks Cloud Storage for exactly that one', async () => {
    requestedGenerations.length = 0;
    const pinned = { generation: currentGeneration };
    expect(await blobs.readText('data-bucket', 'train.jsonl', pinned)).toBe(content);
    expect(await text(blobs.read('data-bucket', 'train.jsonl', pinned))).toBe(content);
    expect(requestedGenerations).toEqual([currentGeneration, currentGeneration]);
  });

  it('fails a read of a generation that was replaced with a permanent "no longer current" 404', async () => {
    const old = { generation: '1699999999999999' };
    for (const call of [
      () => blobs.readText('data-bucket', 'train.jsonl', old),
      () => text(blobs.read('data-bucket', 'train.jsonl', old)),
    ]) {
      const error = await accessError(call());
      expect(error).toBeInstanceOf(StaleGenerationError);
      expect(error).toMatchObject({ status: 404, permanent: true, generation: old.generation });
      expect(error.message).toContain('no longer current');
    }
  });

  it('reports a forbidden object as a permanent 403, whichever way it is read', async () => {
    for (const call of [
      () => blobs.stat('forbidden-bucket', 'val.jsonl'),
      () => blobs.readText('forbidden-bucket', 'val.jsonl'),
      () => text(blobs.read('forbidden-bucket', 'val.jsonl')),
    ]) {
      const error = await accessError(call());
      expect(error).toMatchObject({
        status: 403,
        permanent: true,
        bucket: 'forbidden-bucket',
        object: 'val.jsonl',
      });
      expect(error.message).toContain('gs://forbidden-bucket/val.jsonl');
    }
  });

  it('answers stat of a missing object with nothing, and a read of it with a permanent 404', async () => {
    expect(await blobs.stat('data-bucket', 'gone.jsonl')).toBeUndefined();
    for (const call of [
      () => blobs.readText('data-bucket', 'gone.jsonl'),
      () => text(blobs.read('data-bucket', 'gone.jsonl')),
    ]) {
      expect(await accessError(call())).toMatchObject({ status: 404, permanent: true });
    }
  });

  it('keeps 429 and 5xx transient, with their status', async () => {
    expect(await accessError(blobs.stat('busy-bucket', 'train.jsonl'))).toMatchObject({
      status: 429,
      permanent: false,
    });
    expect(await accessError(text(blobs.read('flaky-bucket', 'train.jsonl')))).toMatchObject({
      status: 503,
      permanent: false,
    });
  });

  it('leaves an error without an HTTP status (the network) as the client raised it', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const offline = createGcsBlobStore({
      storage: new Storage({
        apiEndpoint: `http://127.0.0.1:${port}`,
        projectId: 'tunedrop-test',
        retryOptions: { autoRetry: false },
      }),
    });
    const error = await offline.stat('data-bucket', 'train.jsonl').then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(BlobAccessError);
  });

  it('copies exactly one generation, server-side, only if the destination does not exist', async () => {
    rewrites.length = 0;
    const copy = await blobs.copy(
      { bucket: 'data-bucket', name: 'train.jsonl', generation: currentGeneration },
      { bucket: 'tunedrop-bucket', name: 'validated/j1/training/train.jsonl' },
      { metadata: { 'tunedrop-source-generation': currentGeneration }, contentType: 'application/jsonl' },
    );
    expect(copy).toMatchObject({
      bucket: 'tunedrop-bucket',
      name: 'validated/j1/training/train.jsonl',
      generation: '1800000000000001',
      metadata: { 'tunedrop-source-generation': currentGeneration },
    });
    expect(rewrites).toEqual([
      {
        path: '/storage/v1/b/data-bucket/o/train.jsonl/rewriteTo/b/tunedrop-bucket/o/validated%2Fj1%2Ftraining%2Ftrain.jsonl',
        query: { sourceGeneration: currentGeneration, ifGenerationMatch: '0' },
        body: {
          metadata: { 'tunedrop-source-generation': currentGeneration },
          contentType: 'application/jsonl',
        },
      },
    ]);
  });

  it('fails a copy of a generation that is gone as stale, and onto an existing copy with a 412', async () => {
    const stale = await accessError(
      blobs.copy(
        { bucket: 'data-bucket', name: 'train.jsonl', generation: '1' },
        { bucket: 'tunedrop-bucket', name: 'validated/j2/training/train.jsonl' },
      ),
    );
    expect(stale).toBeInstanceOf(StaleGenerationError);
    const exists = await accessError(
      blobs.copy(
        { bucket: 'data-bucket', name: 'train.jsonl', generation: currentGeneration },
        { bucket: 'tunedrop-bucket', name: 'validated/j3/training/exists.jsonl' },
      ),
    );
    expect(exists).toBeInstanceOf(DestinationExistsError);
    expect(exists.status).toBe(412);
  });

  it('refuses to copy anywhere but validated/', async () => {
    await expect(
      blobs.copy(
        { bucket: 'data-bucket', name: 'train.jsonl', generation: currentGeneration },
        { bucket: 'tunedrop-bucket', name: 'incoming/train.jsonl' },
      ),
    ).rejects.toMatchObject({ code: 'write-refused' });
  });
});
