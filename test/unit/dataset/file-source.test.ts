import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readFileChunks } from '../../../shared/dataset/file-source.ts';
import { type ValidateOptions, validateDataset } from '../../../shared/dataset/index.ts';
import { example, line, model, user } from './helpers.ts';

const FIXTURES = 'test/fixtures/datasets';
const scratch = mkdtempSync(join(tmpdir(), 'tunedrop-file-source-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A deterministic word counter standing in for the Gemma tokenizer (it runs on the calling thread). */
const loadCounter = async () => ({ count: (text: string) => Math.ceil(text.split(' ').length * 1.3) });

/** Fresh chunks that nobody reuses: the reference every other source must match. */
async function* fresh(bytes: Buffer, chunkBytes: number) {
  for (let i = 0; i < bytes.length; i += chunkBytes) yield Buffer.from(bytes.subarray(i, i + chunkBytes));
}

/**
 * One buffer for every chunk, scribbled over as soon as the next chunk is asked for: anything the
 * validator kept of an earlier chunk without copying it would read 0xff instead of its bytes.
 */
async function* scribbled(bytes: Buffer, chunkBytes: number) {
  const buffer = Buffer.alloc(chunkBytes);
  for (let i = 0; i < bytes.length; i += chunkBytes) {
    const length = bytes.copy(buffer, 0, i, i + chunkBytes);
    yield buffer.subarray(0, length);
    buffer.fill(0xff);
  }
}

/** Every kind of line the splitter treats apart, with multi-byte characters to split. */
function awkwardDataset(): Buffer {
  const ok = line(example());
  const multi = line({ contents: [user('Grüße 日本 🎉 '.repeat(40)), model('ok')] });
  const long = line({ contents: [user('x'.repeat(3000)), model('ok')] });
  return Buffer.concat([
    Buffer.from([0xef, 0xbb, 0xbf]),
    Buffer.from(`${ok}\r\n${multi}\n\n${long}\n{"contents": [\n`),
    Buffer.concat([Buffer.from('{"contents":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]),
    Buffer.from(`${Array.from({ length: 40 }, () => multi).join('\n')}\n${long}\n${ok}`),
  ]);
}

const options: ValidateOptions = { model: 'gemini-3.5-flash', loadCounter, maxLineBytes: 2048, maxErrors: 5 };

describe('reading a local file for the validator', { timeout: 60_000 }, () => {
  it('yields the file in order, in chunks of at most the read size, from two buffers reused', async () => {
    const bytes = awkwardDataset();
    const path = join(scratch, 'awkward.jsonl');
    writeFileSync(path, bytes);
    const chunks: Buffer[] = [];
    const memory = new Set<ArrayBufferLike>();
    for await (const chunk of readFileChunks(path, 1000)) {
      expect(chunk.length).toBeGreaterThan(0);
      expect(chunk.length).toBeLessThanOrEqual(1000);
      chunks.push(Buffer.from(chunk));
      memory.add(chunk.buffer);
    }
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
    expect(chunks.length).toBe(Math.ceil(bytes.length / 1000));
    expect(memory.size).toBe(2);
  });

  it('yields nothing for an empty file, and an unreadable one rejects with its error', async () => {
    const empty = join(scratch, 'empty.jsonl');
    writeFileSync(empty, '');
    const chunks = [];
    for await (const chunk of readFileChunks(empty)) chunks.push(chunk);
    expect(chunks).toEqual([]);
    await expect(readFileChunks(join(scratch, 'missing.jsonl')).next()).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  // Open descriptors are counted where the system lists them (/proc: Linux, where CI runs).
  it.runIf(existsSync('/proc/self/fd'))(
    'closes the file when its reader stops early, with a read in flight',
    async () => {
      const path = join(scratch, 'early.jsonl');
      writeFileSync(path, awkwardDataset());
      const open = () => readdirSync('/proc/self/fd').length;
      const before = open();
      for await (const chunk of readFileChunks(path, 100)) {
        expect(open()).toBe(before + 1);
        expect(chunk.length).toBe(100);
        break;
      }
      expect(open()).toBe(before);
    },
  );

  it('gives the same report as fresh chunks, on the calling thread and on workers, at any read size', async () => {
    const bytes = awkwardDataset();
    const path = join(scratch, 'same.jsonl');
    writeFileSync(path, bytes);
    const reference = await validateDataset(fresh(bytes, 1 << 20), { ...options, parallel: { workers: 0 } });
    // The report covers what the comparison is meant to: a BOM, a line over the cap, bad UTF-8.
    expect(reference.errors.map((error) => error.code)).toEqual(
      expect.arrayContaining(['bom', 'line_too_long', 'invalid_utf8', 'json_syntax']),
    );
    for (const chunkBytes of [1, 2, 7, 1000, 1 << 20]) {
      const onWorkers = {
        ...options,
        parallel: {
          workers: 1,
          thresholdBytes: 0,
          thresholdLines: 0,
          blockBytes: 512,
          callerValidates: false,
        },
      };
      expect(await validateDataset(readFileChunks(path, chunkBytes), options), `${chunkBytes}`).toEqual(
        reference,
      );
      expect(await validateDataset(scribbled(bytes, chunkBytes), options), `${chunkBytes}`).toEqual(
        reference,
      );
      expect(await validateDataset(readFileChunks(path, chunkBytes), onWorkers), `${chunkBytes}`).toEqual(
        reference,
      );
    }
  });

  it('gives every fixture the same report read from its file as from fresh chunks', async () => {
    for (const name of readdirSync(FIXTURES).filter((file) => file.endsWith('.jsonl'))) {
      const path = `${FIXTURES}/${name}`;
      const reference = await validateDataset(fresh(readFileSync(path), 1 << 20), options);
      expect(await validateDataset(readFileChunks(path, 4096), options), name).toEqual(reference);
      expect(await validateDataset(scribbled(readFileSync(path), 333), options), name).toEqual(reference);
    }
  });
});
