import { mkdtemp, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PermanentError } from '../../../shared/errors/index.ts';
import {
  BlobAccessError,
  type BlobStore,
  createLocalBlobStore,
  DestinationExistsError,
  isMetadataSidecar,
  pinGeneration,
  reportNameFor,
  StaleGenerationError,
} from '../../../shared/storage/index.ts';

let root: string;
let blobs: BlobStore;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tunedrop-blobs-'));
  blobs = createLocalBlobStore({ root });
});
afterEach(() => rm(root, { recursive: true, force: true }));

const text = async (stream: NodeJS.ReadableStream) => {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

describe('local blob store', () => {
  it('writes reports and reads them back, under any bucket name', async () => {
    await blobs.write(
      'some-bucket',
      'reports/incoming/a.jsonl.report.json',
      '{"ok":true}',
      'application/json',
    );
    expect(await blobs.readText('other-bucket', 'reports/incoming/a.jsonl.report.json')).toBe('{"ok":true}');
    expect(await text(blobs.read('b', 'reports/incoming/a.jsonl.report.json'))).toBe('{"ok":true}');
  });

  it('refuses to write under incoming/, where user uploads live', async () => {
    await expect(blobs.write('b', 'incoming/a.jsonl', 'x', 'application/jsonl')).rejects.toBeInstanceOf(
      PermanentError,
    );
    await expect(readdir(root)).resolves.toEqual([]);
  });

  it('replaces a file atomically and leaves no temporary file behind', async () => {
    await blobs.write('b', 'reports/r.json', 'first', 'application/json');
    await blobs.write('b', 'reports/r.json', 'second', 'application/json');
    expect(await readdir(join(root, 'reports'))).toEqual(['r.json']);
    expect(await blobs.readText('b', 'reports/r.json')).toBe('second');
  });

  it('reports the mtime in microseconds as the generation', async () => {
    await writeFile(join(root, 'data.jsonl'), '{}\n');
    const info = await blobs.stat('b', 'data.jsonl');
    const { mtimeNs } = await stat(join(root, 'data.jsonl'), { bigint: true });
    expect(info).toMatchObject({
      bucket: 'b',
      name: 'data.jsonl',
      size: 3,
      contentType: 'application/jsonl',
    });
    expect(info?.generation).toBe((mtimeNs / 1000n).toString());
  });

  it('reads the generation it is asked for while that generation is current', async () => {
    await writeFile(join(root, 'data.jsonl'), '{"a":1}\n');
    const info = await blobs.stat('b', 'data.jsonl');
    const pinned = { generation: info!.generation };
    expect(await blobs.readText('b', 'data.jsonl', pinned)).toBe('{"a":1}\n');
    expect(await text(blobs.read('b', 'data.jsonl', pinned))).toBe('{"a":1}\n');
  });

  it('refuses to read a generation that a newer upload replaced, with a typed 404', async () => {
    await writeFile(join(root, 'data.jsonl'), '{"a":1}\n');
    const first = await blobs.stat('b', 'data.jsonl');
    // A re-upload: new bytes, renamed into place, with a later mtime (a new generation).
    await writeFile(join(root, 'next.tmp'), '{"b":2}\n');
    const later = new Date(Date.now() + 60_000);
    await utimes(join(root, 'next.tmp'), later, later);
    await rename(join(root, 'next.tmp'), join(root, 'data.jsonl'));
    const second = await blobs.stat('b', 'data.jsonl');
    expect(second!.generation).not.toBe(first!.generation);

    const pinned = { generation: first!.generation };
    for (const call of [
      () => blobs.readText('b', 'data.jsonl', pinned),
      () => text(blobs.read('b', 'data.jsonl', pinned)),
    ]) {
      const error = await call().then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(StaleGenerationError);
      expect(error).toBeInstanceOf(BlobAccessError);
      expect(error).toMatchObject({
        status: 404,
        permanent: true,
        generation: first!.generation,
        currentGeneration: second!.generation,
      });
      expect((error as Error).message).toContain('no longer current');
    }
    // The current generation still reads, and unpinned reads are unchanged.
    expect(await blobs.readText('b', 'data.jsonl', { generation: second!.generation })).toBe('{"b":2}\n');
    expect(await blobs.readText('b', 'data.jsonl')).toBe('{"b":2}\n');
  });

  it('treats a pinned read of a deleted object as a generation no longer current', async () => {
    await expect(blobs.readText('b', 'gone.jsonl', { generation: '1' })).rejects.toBeInstanceOf(
      StaleGenerationError,
    );
  });

  it('reads custom metadata from a sidecar and keeps sidecars out of listings', async () => {
    await writeFile(
      join(root, 'a.jsonl.metadata.json'),
      JSON.stringify({ 'epoch-count': 2, 'base-model': 'x' }),
    );
    await writeFile(join(root, 'a.jsonl'), '{}\n');
    await writeFile(join(root, 'b.jsonl'), '{}\n');
    expect((await blobs.stat('b', 'a.jsonl'))?.metadata).toEqual({ 'epoch-count': '2', 'base-model': 'x' });
    expect((await blobs.stat('b', 'b.jsonl'))?.metadata).toEqual({});
    expect((await blobs.list('b', '')).map((info) => info.name)).toEqual(['a.jsonl', 'b.jsonl']);
    expect(isMetadataSidecar('a.jsonl.metadata.json')).toBe(true);
  });

  it('lists by prefix across folders', async () => {
    await blobs.write('b', 'reports/x/one.json', '1', 'application/json');
    await blobs.write('b', 'reports/two.json', '2', 'application/json');
    await blobs.write('b', 'other/three.json', '3', 'application/json');
    expect((await blobs.list('b', 'reports/')).map((info) => info.name)).toEqual([
      'reports/two.json',
      'reports/x/one.json',
    ]);
  });

  it('answers undefined for a missing object and errors the stream', async () => {
    expect(await blobs.stat('b', 'nope.jsonl')).toBeUndefined();
    await expect(text(blobs.read('b', 'nope.jsonl'))).rejects.toThrow(/ENOENT/);
  });

  it('reports a missing object as a permanent 404, like Cloud Storage', async () => {
    const calls = [
      () => text(blobs.read('other-bucket', 'nope.jsonl')),
      () => blobs.readText('b', 'nope.jsonl'),
    ];
    for (const call of calls) {
      const error = await call().then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(BlobAccessError);
      expect(error).toMatchObject({ status: 404, permanent: true });
    }
  });

  it('refuses names that would leave the folder', async () => {
    expect(() => blobs.read('b', '../etc/passwd')).toThrow(PermanentError);
    await expect(blobs.write('b', 'reports/../../x', 'x', 'text/plain')).rejects.toThrow(PermanentError);
  });

  it('names reports after the object path', () => {
    expect(reportNameFor('incoming/team/tuning.json')).toBe('reports/incoming/team/tuning.json.report.json');
  });
});

describe('local blob store copies (pinning)', () => {
  const destination = { bucket: 'b', name: 'validated/j1/training/data.jsonl' };

  it('copies the generation asked for, with its metadata, and leaves no temporary file', async () => {
    await writeFile(join(root, 'data.jsonl'), 'validated bytes\n');
    const source = await blobs.stat('b', 'data.jsonl');
    const copy = await blobs.copy(
      { bucket: 'b', name: 'data.jsonl', generation: source!.generation },
      destination,
      {
        metadata: { 'tunedrop-source-generation': source!.generation },
      },
    );
    expect(copy).toMatchObject({
      name: destination.name,
      metadata: { 'tunedrop-source-generation': source!.generation },
    });
    expect(await blobs.readText('b', destination.name, { generation: copy.generation })).toBe(
      'validated bytes\n',
    );
    expect((await readdir(join(root, 'validated/j1/training'))).sort()).toEqual([
      'data.jsonl',
      'data.jsonl.metadata.json',
    ]);
  });

  it('creates the copy only if absent: a second copy fails with a 412 and changes nothing', async () => {
    await writeFile(join(root, 'data.jsonl'), 'first\n');
    const first = await blobs.stat('b', 'data.jsonl');
    await blobs.copy({ bucket: 'b', name: 'data.jsonl', generation: first!.generation }, destination);
    const later = new Date(Date.now() + 60_000);
    await writeFile(join(root, 'data.jsonl'), 'second\n');
    await utimes(join(root, 'data.jsonl'), later, later);
    const second = await blobs.stat('b', 'data.jsonl');
    const error = await blobs
      .copy({ bucket: 'b', name: 'data.jsonl', generation: second!.generation }, destination)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DestinationExistsError);
    expect((error as DestinationExistsError).status).toBe(412);
    expect(await blobs.readText('b', destination.name)).toBe('first\n');
    expect(await readdir(join(root, 'validated/j1/training'))).toEqual(['data.jsonl']);
  });

  it('fails a copy of a replaced generation as stale, copying nothing', async () => {
    await writeFile(join(root, 'data.jsonl'), 'old\n');
    const old = await blobs.stat('b', 'data.jsonl');
    const later = new Date(Date.now() + 60_000);
    await writeFile(join(root, 'data.jsonl'), 'new\n');
    await utimes(join(root, 'data.jsonl'), later, later);
    await expect(
      blobs.copy({ bucket: 'b', name: 'data.jsonl', generation: old!.generation }, destination),
    ).rejects.toBeInstanceOf(StaleGenerationError);
    expect(await blobs.stat('b', destination.name)).toBeUndefined();
  });

  it('refuses a destination outside validated/', async () => {
    await writeFile(join(root, 'data.jsonl'), 'x\n');
    const info = await blobs.stat('b', 'data.jsonl');
    for (const name of ['incoming/copy.jsonl', 'reports/copy.jsonl', 'validated/']) {
      await expect(
        blobs.copy({ bucket: 'b', name: 'data.jsonl', generation: info!.generation }, { bucket: 'b', name }),
      ).rejects.toBeInstanceOf(PermanentError);
    }
  });

  it('pins once: a second pin of a newer generation returns the first copy and its source generation', async () => {
    await writeFile(join(root, 'data.jsonl'), 'first\n');
    const first = await blobs.stat('b', 'data.jsonl');
    const pinned = await pinGeneration(
      blobs,
      { bucket: 'b', name: 'data.jsonl', generation: first!.generation },
      destination,
    );
    expect(pinned).toMatchObject({
      uri: `gs://b/${destination.name}`,
      sourceUri: 'gs://b/data.jsonl',
      sourceGeneration: first!.generation,
      created: true,
    });
    const later = new Date(Date.now() + 60_000);
    await writeFile(join(root, 'data.jsonl'), 'second\n');
    await utimes(join(root, 'data.jsonl'), later, later);
    const second = await blobs.stat('b', 'data.jsonl');
    const again = await pinGeneration(
      blobs,
      { bucket: 'b', name: 'data.jsonl', generation: second!.generation },
      destination,
    );
    expect(again).toEqual({ ...pinned, created: false });
  });
});
