import type { Storage } from '@google-cloud/storage';
import { describe, expect, it } from 'vitest';
import { createGcsTarget, ObjectExistsError, parseBucketUrl } from '../../../cli/lib/bucket-target.ts';

/** A stand-in for the Storage client that records upload calls (unit test: no GCS emulator exists here). */
function fakeStorage(answer: () => Promise<unknown>) {
  const calls: { bucket: string; path: string; options: Record<string, unknown> }[] = [];
  const storage = {
    bucket: (bucket: string) => ({
      upload: async (path: string, options: Record<string, unknown>) => {
        calls.push({ bucket, path, options });
        return answer();
      },
    }),
  } as unknown as Storage;
  return { storage, calls };
}

describe('submit to Cloud Storage', () => {
  it('uploads with ifGenerationMatch 0 and the custom metadata, returning the generation', async () => {
    const { storage, calls } = fakeStorage(async () => [{ metadata: { generation: '1712345678901234' } }]);
    const target = createGcsTarget(storage, 'my-bucket');
    const result = await target.put('incoming/a.jsonl', '/tmp/a.jsonl', {
      contentType: 'application/jsonl',
      metadata: { 'base-model': 'gemini-3.5-flash' },
    });
    expect(result).toEqual({ generation: '1712345678901234' });
    expect(calls[0]).toEqual({
      bucket: 'my-bucket',
      path: '/tmp/a.jsonl',
      options: {
        destination: 'incoming/a.jsonl',
        preconditionOpts: { ifGenerationMatch: 0 },
        metadata: { contentType: 'application/jsonl', metadata: { 'base-model': 'gemini-3.5-flash' } },
      },
    });
  });

  it('reports an existing object (412) as ObjectExistsError', async () => {
    const { storage } = fakeStorage(async () => {
      throw Object.assign(new Error('precondition failed'), { code: 412 });
    });
    await expect(
      createGcsTarget(storage, 'b').put('incoming/a.jsonl', '/tmp/a.jsonl', {
        contentType: 'application/jsonl',
      }),
    ).rejects.toThrow(ObjectExistsError);
  });

  it('accepts gs://BUCKET only', () => {
    expect(parseBucketUrl('gs://my-bucket')).toBe('my-bucket');
    expect(parseBucketUrl('gs://my-bucket/')).toBe('my-bucket');
    expect(parseBucketUrl('gs://my-bucket/incoming')).toBeUndefined();
    expect(parseBucketUrl('my-bucket')).toBeUndefined();
  });
});
